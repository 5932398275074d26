"""Clustering quality against wall time: DEC, IDEC, N2D, DCN (and their augmented forms) over seeds.

Usage (from the repository root):

    python -m benchmarks.quality.clustering_quality --data digits --methods dec idec n2d \
        --seeds 0 1 2
    python -m benchmarks.quality.clustering_quality --data mnist-test --methods dec idec n2d \
        --seeds 0 1 2
    python -m benchmarks.quality.clustering_quality --data mnist-test --methods dec-da \
        --seeds 0 1 2
    python -m benchmarks.quality.clustering_quality --data wine-std breast-cancer-std \
        digits-std --methods dec idec n2d dcn --seeds 0

Every method runs with the estimators' default arguments unless `--param name=value` (Python
literals) says otherwise. Per seed, one pretraining is shared by the methods without augmentation
(`autoencoder_weights=`) and one by the augmented ones (`-da`: random shifts of 0.1 and rotations
of 10 degrees, DEC-DA), so DEC, IDEC, N2D and DCN differ only in their clustering stage
(`-manifold`: DEC / IDEC / DCN with `init="manifold"`, started from N2D's partition; `-gmm`: with
`init="gmm"`, from a Gaussian mixture's partition of the embedding); a run's time
is its pretraining's plus its own fit. Prints one line per run (ACC, NMI, ARI, seconds, the AE +
k-means start), then mean / median / spread per method, k-means on the features as reference, and
the pretraining's achieved GFLOP/s (6 x weights x samples x epochs, the dense layers' forward and
backward multiply-adds). `--json PATH` also writes every row (`data`, `seed`, `method`, the
scores and seconds; without the `benchmark` key of `benchmarks.rows`, which the report reads as
this benchmark); `--weights-dir DIR` keeps each seed's pretraining there and reuses it.

Data: `digits` (scikit-learn, 1,797 x 64, pixels 0-16), `mnist-test` (10,000), `mnist-all`
(70,000) read by `keras_cluster.datasets.load_mnist` (`--mnist-path`, else ../shared/data/
mnist.npz beside the checkout), and `wine-std`, `breast-cancer-std`, `digits-std`: scikit-learn's
sets after `StandardScaler`.
"""

import argparse
import ast
import json
import pathlib
import statistics
import tempfile
import time

import keras
import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from keras_cluster.datasets import load_digits, load_mnist
from keras_cluster.estimators import DCN, DEC, IDEC, N2D
from keras_cluster.metrics import adjusted_rand_index, clustering_accuracy, normalized_mutual_info

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist.npz"
# name: (estimator, its extra arguments, augmented pretraining and batches)
METHODS = {
    "dec": (DEC, {}, False),
    "idec": (IDEC, {}, False),
    "n2d": (N2D, {}, False),
    "n2d-gmm": (N2D, {"clusterer": "gmm"}, False),
    "dcn": (DCN, {}, False),
    "dcn-manifold": (DCN, {"init": "manifold"}, False),
    "dcn-gmm": (DCN, {"init": "gmm"}, False),
    "dec-gmm": (DEC, {"init": "gmm"}, False),
    "idec-gmm": (IDEC, {"init": "gmm"}, False),
    "dec-manifold": (DEC, {"init": "manifold"}, False),
    "idec-manifold": (IDEC, {"init": "manifold"}, False),
    "dec-da": (DEC, {}, True),
    "idec-da": (IDEC, {}, True),
    "n2d-da": (N2D, {}, True),
}
DATA = ["digits", "mnist-test", "mnist-all", "wine-std", "breast-cancer-std", "digits-std"]
IMAGE_SHAPES = {"digits": (8, 8, 1), "mnist-test": (28, 28, 1), "mnist-all": (28, 28, 1)}


def load(name, mnist_path):
    """`(x, y)` of a data set named in `DATA`."""
    if name == "digits":
        return load_digits()
    if name.endswith("-std"):
        loader = {
            "wine-std": sk_datasets.load_wine,
            "breast-cancer-std": sk_datasets.load_breast_cancer,
            "digits-std": sk_datasets.load_digits,
        }[name]
        x, y = loader(return_X_y=True)
        return StandardScaler().fit_transform(x).astype("float32"), y
    if mnist_path is None and SHARED_MNIST.exists():
        mnist_path = SHARED_MNIST
    return load_mnist(mnist_path, subset={"mnist-test": "test", "mnist-all": "all"}[name])


def augmentation():
    """DEC-DA's augmentation: random shifts of 10% and rotations of 10 degrees."""
    return keras.Sequential(
        [
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            keras.layers.RandomRotation(10 / 360, fill_mode="constant"),
        ]
    )


def scores(y, labels):
    return (
        clustering_accuracy(y, labels),
        normalized_mutual_info(y, labels),
        adjusted_rand_index(y, labels),
    )


def pretraining_gflops(estimator, n_samples, seconds):
    """Achieved GFLOP/s of the pretraining: 6 multiply-adds' worth per weight, sample and epoch."""
    weights = sum(int(np.prod(w.shape)) for w in estimator.autoencoder_.trainable_weights)
    epochs = estimator.pretrain_epochs_
    return 6.0 * weights * n_samples * epochs / seconds / 1e9


def summarise(name, rows):
    columns = list(zip(*[row[:4] for row in rows], strict=True))
    text = []
    for label, values in zip(("ACC", "NMI", "ARI", "seconds"), columns, strict=True):
        text.append(
            f"{label} mean {statistics.mean(values):.3f} median {statistics.median(values):.3f} "
            f"spread {max(values) - min(values):.3f}"
        )
    print(f"{name:>22} over {len(rows)} runs: " + " | ".join(text), flush=True)


def write_rows(path, records):
    """Write every row so far to `path` (after each run, so a long benchmark keeps its rows)."""
    if path:
        pathlib.Path(path).write_text(json.dumps(records, indent=1) + "\n")


def run_data(name, args, params, workdir, records):
    x, y = load(name, args.mnist_path)
    n_clusters = len(np.unique(y))
    print(f"\ndata {name}: {x.shape[0]} samples x {x.shape[1]} features, {n_clusters} clusters")
    results = {"k-means (features)": []}
    for seed in args.seeds:
        start = time.perf_counter()
        raw = KMeans(n_clusters, n_init=20, random_state=seed).fit_predict(x)
        raw_scores = scores(y, raw)
        results["k-means (features)"].append((*raw_scores, time.perf_counter() - start))
        records.append(
            dict(data=name, seed=seed, method="k-means (features)",
                 seconds=results["k-means (features)"][-1][3], acc=raw_scores[0],
                 nmi=raw_scores[1], ari=raw_scores[2])
        )  # fmt: skip
        pretrained = {}
        for method in args.methods:
            estimator_class, method_params, augmented = METHODS[method]
            augmented = "da" if augmented else ""
            extra = {}
            if augmented:
                if name not in IMAGE_SHAPES:
                    raise SystemExit(f"{method} needs image data; {name} is not")
                extra = {"augmentation": augmentation(), "image_shape": IMAGE_SHAPES[name]}
            stem = f"{name}_{seed}_{augmented or 'clean'}"
            cached = pathlib.Path(args.weights_dir or workdir) / f"{stem}.json"
            if augmented not in pretrained and args.weights_dir and cached.exists():
                # A pretraining kept by an earlier run with the same --weights-dir: reused with
                # the seconds and scores it was measured at.
                kept = json.loads(cached.read_text())
                pretrained[augmented] = (kept["path"], kept["seconds"], tuple(kept["scores"]))
                print(f"  seed {seed}: pretraining reused from {kept['path']}", flush=True)
            if augmented not in pretrained:
                started = time.perf_counter()
                ae = DEC(
                    n_clusters,
                    random_state=seed,
                    verbose=args.verbose,
                    **{**params, **extra, "max_iter": 0},
                ).fit(x)
                seconds = time.perf_counter() - started
                path = str(pathlib.Path(args.weights_dir or workdir) / f"{stem}.weights.h5")
                ae.autoencoder_.save_weights(path)
                gflops = pretraining_gflops(ae, x.shape[0], seconds)
                start_scores = scores(y, ae.kmeans_.labels_)
                pretrained[augmented] = (path, seconds, start_scores)
                cached.write_text(
                    json.dumps({"path": path, "seconds": seconds, "scores": list(start_scores)})
                )
                print(
                    f"  seed {seed}: pretraining{' (augmented)' if augmented else ''} "
                    f"{seconds:.1f}s, {gflops:.0f} GFLOP/s; AE+k-means ACC {start_scores[0]:.4f} "
                    f"NMI {start_scores[1]:.4f}",
                    flush=True,
                )
                records.append(
                    dict(data=name, seed=seed, method=f"pretraining{'-da' if augmented else ''}",
                         seconds=seconds, gflops=gflops, acc=start_scores[0],
                         nmi=start_scores[1], ari=start_scores[2])
                )  # fmt: skip
            path, pretrain_seconds, start_scores = pretrained[augmented]
            estimator_params = {**params, **extra, **method_params}
            if estimator_class is N2D:
                estimator_params.pop("max_iter", None)
                estimator_params.pop("update_interval", None)
            if estimator_class is DCN:
                for name_ in ("max_iter", "update_interval", "tol", "gamma"):
                    estimator_params.pop(name_, None)
            estimator = estimator_class(
                n_clusters,
                random_state=seed,
                verbose=args.verbose,
                autoencoder_weights=path,
                **estimator_params,
            )
            estimator.fit(x)
            total = pretrain_seconds + estimator.fit_time_
            row = (*scores(y, estimator.labels_), total)
            results.setdefault(method.upper(), []).append(row)
            print(
                f"{method.upper():>8} seed {seed}: ACC {row[0]:.4f} NMI {row[1]:.4f} "
                f"ARI {row[2]:.4f} {total:.1f}s",
                flush=True,
            )
            records.append(
                dict(data=name, seed=seed, method=method, seconds=total, acc=row[0], nmi=row[1],
                     ari=row[2], start_acc=start_scores[0])
            )  # fmt: skip
            write_rows(args.json, records)
        for augmented, (_, seconds, start_scores) in pretrained.items():
            key = "AE+k-means" + ("-da" if augmented else "")
            results.setdefault(key, []).append((*start_scores, seconds))
    print()
    for method_name, rows in results.items():
        if rows:
            summarise(method_name, rows)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", nargs="+", choices=DATA, default=["digits"])
    parser.add_argument(
        "--methods",
        nargs="*",
        choices=list(METHODS),
        default=["dec", "idec", "n2d"],
        help="none: k-means on the features alone",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--mnist-path", default=None)
    parser.add_argument(
        "--param", action="append", default=[], help="estimator argument name=value"
    )
    parser.add_argument("--json", default=None, help="also write every row to this JSON file")
    parser.add_argument(
        "--weights-dir",
        default=None,
        help="keep each seed's pretrained autoencoder here and reuse it in later runs",
    )
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    params = {}
    for item in args.param:
        key, _, value = item.partition("=")
        params[key] = ast.literal_eval(value)
    records = []
    with tempfile.TemporaryDirectory(prefix="clustering_quality_") as workdir:
        for name in args.data:
            run_data(name, args, params, workdir, records)
    if args.json:
        write_rows(args.json, records)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
