"""DEC / IDEC figures: ACC, NMI, ARI and wall time over seeds, beside k-means on the raw input.

Usage (from the repository root):

    python benchmarks/dec_benchmark.py --data digits --seeds 0 1 2
    python benchmarks/dec_benchmark.py --data mnist-test --seeds 0 1 2
    python benchmarks/dec_benchmark.py --data mnist-all --methods dec idec --seeds 0 1 2 3 4 \
        --share-pretraining --param finetune_epochs=20

MNIST is read with `keras_cluster.datasets.load_mnist` (`--mnist-path`, else $KERAS_CLUSTER_DATA,
else ../shared/data/mnist.npz beside the checkout, else ~/.keras/datasets/mnist.npz). Extra
estimator arguments go through `--param name=value` (Python literals). Prints one line per run,
then mean, spread (max - min) and median per method, and k-means on the raw input as reference.

`--share-pretraining` pretrains one autoencoder per seed (a fit with `max_iter=0`), saves its
weights, and starts every method of that seed from them (`autoencoder_weights=`): DEC and IDEC
then differ only in their clustering stage. A run's time is then the pretraining fit's plus the
method's own fit (k-means on the embedding is counted twice).
"""

import argparse
import ast
import pathlib
import statistics
import tempfile
import time

import numpy as np
from sklearn.cluster import KMeans

from keras_cluster.datasets import load_digits, load_mnist
from keras_cluster.estimators import DEC, IDEC
from keras_cluster.metrics import adjusted_rand_index, clustering_accuracy, normalized_mutual_info

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


def load(name, mnist_path):
    if name == "digits":
        return load_digits()
    if mnist_path is None and SHARED_MNIST.exists():
        mnist_path = SHARED_MNIST
    subset = {"mnist-test": "test", "mnist-all": "all"}[name]
    return load_mnist(mnist_path, subset=subset)


def scores(y, labels):
    return (
        clustering_accuracy(y, labels),
        normalized_mutual_info(y, labels),
        adjusted_rand_index(y, labels),
    )


def summarise(name, rows):
    columns = list(zip(*rows, strict=True))
    text = []
    for label, values in zip(("ACC", "NMI", "ARI", "seconds"), columns, strict=True):
        text.append(
            f"{label} mean {statistics.mean(values):.3f} median {statistics.median(values):.3f} "
            f"spread {max(values) - min(values):.3f}"
        )
    print(f"{name:>10} over {len(rows)} runs: " + " | ".join(text), flush=True)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", choices=["digits", "mnist-test", "mnist-all"], default="digits")
    parser.add_argument("--methods", nargs="+", choices=["dec", "idec"], default=["dec"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--mnist-path", default=None)
    parser.add_argument(
        "--param", action="append", default=[], help="estimator argument name=value"
    )
    parser.add_argument(
        "--share-pretraining",
        action="store_true",
        help="pretrain once per seed and start every method from those weights",
    )
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    params = {}
    for item in args.param:
        key, _, value = item.partition("=")
        params[key] = ast.literal_eval(value)

    x, y = load(args.data, args.mnist_path)
    n_clusters = len(np.unique(y))
    print(f"data {args.data}: {x.shape[0]} samples x {x.shape[1]} features, {n_clusters} clusters")
    results = {"k-means (raw)": []}
    for method in args.methods:
        results[method.upper()] = []
        results[method.upper() + " AE+k-means"] = []
    workdir = tempfile.mkdtemp(prefix="dec_benchmark_")
    for seed in args.seeds:
        start = time.perf_counter()
        raw = KMeans(n_clusters, n_init=20, random_state=seed).fit_predict(x)
        results["k-means (raw)"].append((*scores(y, raw), time.perf_counter() - start))
        shared, pretrain_time = {}, 0.0
        if args.share_pretraining:
            pretrained = DEC(
                n_clusters, random_state=seed, verbose=args.verbose, **{**params, "max_iter": 0}
            ).fit(x)
            shared["autoencoder_weights"] = str(pathlib.Path(workdir) / f"ae_{seed}.weights.h5")
            pretrained.autoencoder_.save_weights(shared["autoencoder_weights"])
            pretrain_time = pretrained.fit_time_
            print(f"  seed {seed}: pretraining (shared) {pretrain_time:.1f}s", flush=True)
        for method in args.methods:
            estimator = {"dec": DEC, "idec": IDEC}[method](
                n_clusters, random_state=seed, verbose=args.verbose, **params, **shared
            )
            estimator.fit(x)
            row = (*scores(y, estimator.labels_), pretrain_time + estimator.fit_time_)
            results[method.upper()].append(row)
            results[method.upper() + " AE+k-means"].append(
                (*scores(y, estimator.kmeans_.labels_), float("nan"))
            )
            print(
                f"{method.upper():>5} seed {seed}: ACC {row[0]:.4f} NMI {row[1]:.4f} "
                f"ARI {row[2]:.4f} "
                f"fit {row[3]:.1f}s ({estimator.n_iter_} clustering batches, "
                f"converged={estimator.converged_}); AE+k-means start ACC "
                f"{results[method.upper() + ' AE+k-means'][-1][0]:.4f}",
                flush=True,
            )
    print()
    for name, rows in results.items():
        summarise(name, rows)


if __name__ == "__main__":
    main()
