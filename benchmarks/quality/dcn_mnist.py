"""MNIST: DCN (Yang et al. 2017) ACC / NMI against the paper's 0.83 / 0.81, on a stated budget.

Run from the repository root, niced (the CPU is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.quality.dcn_mnist --samples 10000 --pretrain-epochs 10 \
        --epochs 10
"""

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.quality.clustering_quality import SHARED_MNIST  # noqa: E402
from benchmarks.rows import add_json_argument, write_rows  # noqa: E402
from keras_cluster.datasets import load_mnist  # noqa: E402
from keras_cluster.estimators import DCN  # noqa: E402
from keras_cluster.metrics.clustering import (  # noqa: E402
    clustering_accuracy,
    normalized_mutual_info,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=None,
        help="mnist.npz (default: ../shared/data/mnist.npz beside the checkout if there, else "
        "keras_cluster.datasets' lookup)",
    )
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--pretrain", default="end_to_end", choices=("layerwise", "end_to_end"))
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--clustering-weight", type=float, default=0.5)
    parser.add_argument("--centroid-update", default="count", choices=("count", "sgd"))
    parser.add_argument("--pretrain-optimizer", default=None, help="e.g. sgd (default Adam(1e-3))")
    add_json_argument(parser, "dcn_mnist")
    args = parser.parse_args()
    rows = []
    if args.data is None and SHARED_MNIST.exists():
        args.data = str(SHARED_MNIST)
    X, y = load_mnist(args.data, subset="train")
    X, y = X[: args.samples], y[: args.samples]
    print(
        f"MNIST train[:{len(X)}], DCN 784-500-500-2000-10, pretrain {args.pretrain} "
        f"{args.pretrain_epochs} epochs, {args.epochs} DCN epochs, "
        f"lambda/2 = {args.clustering_weight}, centroids by {args.centroid_update}, "
        f"pretrain optimizer {args.pretrain_optimizer or 'Adam(1e-3)'}",
        flush=True,
    )
    results = []
    for run in range(args.runs):
        estimator = DCN(
            10,
            pretrain=args.pretrain,
            pretrain_epochs=args.pretrain_epochs,
            finetune_epochs=args.pretrain_epochs,
            epochs=args.epochs,
            clustering_weight=args.clustering_weight,
            centroid_update=args.centroid_update,
            pretrain_optimizer=args.pretrain_optimizer,
            kmeans_n_init=10,
            random_state=run,
            verbose=0,
        ).fit(X)
        init = estimator.kmeans_.labels_
        scores = [
            (clustering_accuracy(y, labels), normalized_mutual_info(y, labels))
            for labels in (init, estimator.labels_)
        ]
        results.append(scores[1])
        print(
            f"run {run}: AE+k-means init ACC {scores[0][0]:.4f} NMI {scores[0][1]:.4f} -> "
            f"DCN ACC {scores[1][0]:.4f} NMI {scores[1][1]:.4f} ({estimator.fit_time_:.0f} s)",
            flush=True,
        )
        for method, (acc, nmi) in zip(("AE + k-means (the start)", "dcn"), scores, strict=True):
            rows.append(
                dict(benchmark="dcn_mnist", data=f"mnist-train[:{len(X)}]", method=method,
                     seed=run, acc=acc, nmi=nmi, seconds=estimator.fit_time_,
                     pretrain_epochs=args.pretrain_epochs, epochs=args.epochs)
            )  # fmt: skip
        write_rows(args.json, rows)
    accs, nmis = zip(*results, strict=True)
    print(
        f"median of {len(results)}: DCN ACC {statistics.median(accs):.4f} "
        f"NMI {statistics.median(nmis):.4f}; paper (Yang et al. 2017): ACC 0.83 NMI 0.81"
    )


if __name__ == "__main__":
    main()
