"""MNIST: autoencoder + SNNL (labelled subset) + k-means against autoencoder + k-means.

Both arms train the same autoencoder `784-dims` (Adam 1e-3, MSE) for the same epochs and batch
size on the same samples, then run k-means (n_init=10) on the codes; the SNNL arm adds
`weight * SNNL(y, z, T)` on the code (cosine, T = 1/(1+epoch)^0.55) for the labelled subset only.
Prints ACC / NMI of every run and the medians, side by side.

Run from the repository root, niced (the CPU is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.quality.snnl_mnist --samples 10000 --labelled 1000 \
        --epochs 10 --runs 5
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

from benchmarks.quality.clustering_quality import SHARED_MNIST  # noqa: E402
from benchmarks.rows import add_json_argument, write_rows  # noqa: E402
from keras_cluster.datasets import load_mnist  # noqa: E402
from keras_cluster.estimators import SNNLKMeans  # noqa: E402
from keras_cluster.metrics.clustering import (  # noqa: E402
    clustering_accuracy,
    normalized_mutual_info,
)
from keras_cluster.models import build_autoencoder  # noqa: E402


def plain_autoencoder_kmeans(X, dims, epochs, batch_size, seed):
    keras.utils.set_random_seed(seed)
    autoencoder, encoder = build_autoencoder(X.shape[1], dims=dims)
    autoencoder.compile(keras.optimizers.Adam(1e-3), "mse")
    autoencoder.fit(X, X, batch_size=batch_size, epochs=epochs, verbose=0)
    codes = encoder.predict(X, batch_size=4096, verbose=0)
    return KMeans(10, n_init=10, random_state=seed).fit_predict(codes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=None,
        help="mnist.npz (default: ../shared/data/mnist.npz beside the checkout if there, else "
        "keras_cluster.datasets' lookup)",
    )
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--labelled", type=int, default=1_000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--weight", type=float, default=1.0)
    parser.add_argument("--dims", default="500,500,2000,10")
    add_json_argument(parser, "snnl_mnist")
    args = parser.parse_args()
    rows = []
    dims = tuple(int(d) for d in args.dims.split(","))
    if args.data is None and SHARED_MNIST.exists():
        args.data = str(SHARED_MNIST)
    X, y = load_mnist(args.data, subset="train")
    X, y = X[: args.samples], y[: args.samples]
    print(
        f"MNIST train[:{len(X)}], AE 784-{'-'.join(map(str, dims))}, {args.epochs} epochs, "
        f"batch {args.batch_size}, SNNL weight {args.weight} on {args.labelled} labels",
        flush=True,
    )
    scores = {"AE+SNNL+k-means": [], "AE+k-means": []}
    for run in range(args.runs):
        start = time.perf_counter()
        snnl = SNNLKMeans(
            10,
            dims=dims,
            snnl_weight=args.weight,
            n_labelled=args.labelled,
            epochs=args.epochs,
            batch_size=args.batch_size,
            kmeans_n_init=10,
            random_state=run,
            verbose=0,
        ).fit(X, y)
        middle = time.perf_counter()
        plain = plain_autoencoder_kmeans(X, dims, args.epochs, args.batch_size, run)
        end = time.perf_counter()
        for name, labels, seconds in (
            ("AE+SNNL+k-means", snnl.labels_, middle - start),
            ("AE+k-means", plain, end - middle),
        ):
            acc, nmi = clustering_accuracy(y, labels), normalized_mutual_info(y, labels)
            scores[name].append((acc, nmi))
            print(
                f"run {run} {name:>16}: ACC {acc:.4f} NMI {nmi:.4f} ({seconds:.0f} s)", flush=True
            )
            rows.append(
                dict(benchmark="snnl_mnist", data=f"mnist-train[:{len(X)}]", method=name,
                     seed=run, acc=acc, nmi=nmi, seconds=seconds, labelled=args.labelled,
                     epochs=args.epochs)
            )  # fmt: skip
        write_rows(args.json, rows)
    for name, values in scores.items():
        accs, nmis = zip(*values, strict=True)
        print(
            f"median of {len(values)} {name:>16}: ACC {statistics.median(accs):.4f} "
            f"NMI {statistics.median(nmis):.4f} (best ACC {max(accs):.4f})",
            flush=True,
        )
    print("paper (Agarap & Azcarraga 2020, best of 4): AE+SNNL+k-means ACC 0.962 NMI 0.903")


if __name__ == "__main__":
    main()
