"""DEC self-training settings compared from one pretraining per seed.

Usage (from the repository root):

    python -m benchmarks.quality.dec_self_training_sweep --data digits --seeds 0 1 2 \\
        --variant update_interval=35 --variant update_interval=70 --variant update_interval=140

Each seed pretrains the autoencoder once (the defaults, `max_iter=0`), saves the weights, and
fits DEC once per `--variant` (comma-separated `name=value` estimator arguments, Python literals;
`optimizer_lr=0.003` gives `SGD(0.003, momentum=0.9)`, `adam_lr=0.0003` gives `Adam(0.0003)`)
from those weights, so the variants differ only in their clustering stage. A variant that
starts with `idec:` is fit by `IDEC` (`--variant idec:` for its defaults, `--variant
idec:gamma=1.0`), one that starts with `n2d:` by `N2D` (no clustering batches: its rows leave
`batches` and `converged` empty), the others by `DEC`.
`--param name=value` (Python literals) is given to the pretraining and to every variant (e.g.
`--param finetune_epochs=5` for a short run); the rows' names then end with those settings.
Prints ACC / NMI, the clustering batches run and whether `tol` stopped them, then the median
over seeds per variant; the rows go to `--json`.
`--confusion` prints each fit's classes against its clusters, the columns in the order of the
matching ACC scores (`matched_confusion`): a split class or a merged pair shows there.
`--data mnist-test` reads MNIST as `benchmarks.quality.clustering_quality` does.
`--pretrain-dropout RATE` pretrains on inputs corrupted by `keras.layers.Dropout(RATE)` (the
estimators' `augmentation=`, on every pretraining batch, each reconstructing its own corrupted
rows); the variants then start from those weights without it. `--pretrain-corruption mean` drops
entries to their feature's mean instead of to 0: the estimators' `pretrain_corruption=RATE`, the
corruption that an affine rescaling of X does not change.
`--pretrain-lr LR` pretrains with `Adam(LR)` in place of the default `Adam(1e-3)`, and
`--pretrain-cosine` decays its learning rate to 0 along a cosine over the pretraining's steps
(`pretrain_schedule`); the variants then start from those weights.
`--start NAME [NAME ...]` fits every DEC and IDEC variant once from each named partition of the
pretrained embedding (`start_partition`; default `kmeans`, the estimators' own `init`): the
centroids it is given (`init=`) are the partition's cluster means in the embedding
(`keras_cluster.estimators.initialization.partition_means`), so the starts differ in the
partition alone. N2D variants, and those that set `init` themselves, run once; their
`start acc` is the k-means start's.
"""

import argparse
import ast
import pathlib
import statistics
import tempfile

import keras
import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from benchmarks.quality.clustering_quality import load
from benchmarks.rows import add_json_argument, write_rows
from keras_cluster import defaults
from keras_cluster.estimators import DEC, IDEC, N2D
from keras_cluster.estimators.initialization import gaussian_mixture_start, partition_means
from keras_cluster.metrics import clustering_accuracy, normalized_mutual_info
from keras_cluster.metrics.linear_assignment import linear_sum_assignment
from keras_cluster.models.autoencoder import default_pretrain_optimizer

METHODS = {"dec": DEC, "idec": IDEC, "n2d": N2D}


def parse_variant(variant):
    """`(name, estimator class, arguments)` of a `[idec:]name=value,...` variant.

    The name labels the variant's rows: the estimator, then its arguments or "defaults". The
    optimizer given by `optimizer_lr` / `adam_lr` is a template: each fit copies it.
    """
    method, _, text = variant.rpartition(":")
    method, text = method.strip() or "dec", text.strip()
    if method not in METHODS:
        raise SystemExit(f"--variant {variant!r}: the estimator must be one of {list(METHODS)}")
    params = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        params[key.strip()] = ast.literal_eval(value)
    if "optimizer_lr" in params:
        params["optimizer"] = keras.optimizers.SGD(
            params.pop("optimizer_lr"), momentum=defaults.SELF_TRAINING_MOMENTUM
        )
    if "adam_lr" in params:
        params["optimizer"] = keras.optimizers.Adam(params.pop("adam_lr"))
    return f"{method} {text or 'defaults'}", METHODS[method], params


def row_suffix(common, dropout=None, corruption=None, learning_rate=None, cosine=False):
    """What ends the rows' method names when the run is not the defaults' (empty when it is).

    `common` holds the `--param` settings; `dropout`, `corruption`, `learning_rate` and `cosine`
    the `--pretrain-*` options (`learning_rate` None: the default pretraining optimizer).
    Without it, a run's rows would take the names of the defaults' rows (`benchmarks.report`
    keys rows by benchmark, data, seed and method).
    """
    suffix = ""
    if common:
        suffix = ", with " + ", ".join(f"{key}={value!r}" for key, value in common.items())
    if dropout is not None:
        suffix += f", pretrained on inputs with dropout {dropout:g}"
        if corruption == "mean":
            suffix += " to the feature means"
    if learning_rate is not None:
        suffix += f", pretrained with Adam({learning_rate:g}"
        suffix += ", cosine decay)" if cosine else ")"
    return suffix


STARTS = ("kmeans", "whitened-kmeans", "cosine-kmeans", "gmm")


def start_partition(name, embedding, n_clusters, seed, kmeans):
    """The partition of the pretrained `embedding` that `--start name` starts DEC and IDEC from.

    - `"kmeans"`: the estimators' own start, `kmeans` (the k-means fitted on the embedding with
      `kmeans_n_init` restarts).
    - `"whitened-kmeans"`: k-means (`defaults.KMEANS_N_INIT` restarts) on the embedding rotated
      onto its principal axes and scaled to unit variance along each (PCA whitening), so no
      direction outweighs the others; the partition is the same for any invertible linear map
      of the embedding.
    - `"cosine-kmeans"`: k-means on the rows scaled to unit length (the direction of each point).
    - `"gmm"`: a Gaussian mixture with full covariances, started from `kmeans`'s centroids
      (`keras_cluster.estimators.initialization.gaussian_mixture_start`, the estimators'
      `init="gmm"`).

    Returns:
        Integer labels, one per row of `embedding`.
    """
    if name == "kmeans":
        return np.asarray(kmeans.labels_)
    if name == "gmm":  # the estimators' init="gmm"
        _, labels = gaussian_mixture_start(embedding, embedding, kmeans.cluster_centers_, seed)
        if labels is None:
            raise RuntimeError(f"The Gaussian mixture of seed {seed} could not be fitted")
        return labels
    if name == "whitened-kmeans":
        features = PCA(whiten=True, random_state=seed).fit_transform(embedding)
    elif name == "cosine-kmeans":
        features = embedding / np.linalg.norm(embedding, axis=1, keepdims=True)
    else:
        raise ValueError(f"`name` should be one of {STARTS}. Received: name={name!r}")
    kmeans = KMeans(n_clusters, n_init=defaults.KMEANS_N_INIT, random_state=seed)
    return kmeans.fit(features).labels_


def pretrain_steps(n_samples, settings):
    """The optimizer steps of the end-to-end pretraining `DEC(**settings)` runs on `n_samples`."""
    batch_size = settings.get("batch_size", defaults.BATCH_SIZE)
    epochs = defaults.pretrain_epochs_for(
        settings.get("finetune_epochs", defaults.FINETUNE_EPOCHS), n_samples, batch_size
    )
    return epochs * -(-n_samples // batch_size)


def matched_confusion(y_true, y_pred):
    """Classes (rows) against clusters (columns), column `i` the cluster matched to class `i`.

    The one-to-one matching of clusters to classes that `clustering_accuracy` scores (the same
    exact maximum-weight assignment on the contingency table), so the diagonal holds the matched
    counts and sums to ACC x `len(y_true)`. A class that no cluster matches (fewer clusters
    than classes) gets a column of zeros; unmatched clusters follow the matched ones. A split
    class shows as a row with two large entries, a merged pair as a column with two.

    Example:
    >>> matched_confusion([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 3, 4]).tolist()
    [[2, 0, 0], [0, 2, 0], [0, 1, 1]]
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes, true_index = np.unique(y_true, return_inverse=True)
    clusters, pred_index = np.unique(y_pred, return_inverse=True)
    counts = np.zeros((len(classes), len(clusters) + 1), np.int64)  # the last column: zeros
    np.add.at(counts, (true_index, pred_index), 1)
    rows, cols = linear_sum_assignment(counts[:, :-1].astype("float64"), maximize=True)
    rows, cols = np.asarray(rows), np.asarray(cols)
    order = np.full(len(classes), len(clusters))  # unmatched classes: the zero column
    order[rows] = cols
    matched = set(cols.tolist())
    rest = [c for c in range(len(clusters)) if c not in matched]
    return counts[:, [*order.tolist(), *rest]]


def pretrain_schedule(learning_rate, steps=None):
    """`learning_rate`, or a cosine decay from it to 0 over `steps` (when given)."""
    if steps is None:
        return learning_rate
    return keras.optimizers.schedules.CosineDecay(learning_rate, steps)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", choices=["digits", "mnist-test", "mnist-all"], default="digits")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variant", action="append", default=[], help="name=value[,name=value]")
    parser.add_argument("--mnist-path", default=None)
    parser.add_argument(
        "--confusion",
        action="store_true",
        help="print each fit's classes against its clusters (`matched_confusion`)",
    )
    parser.add_argument(
        "--param", action="append", default=[], help="estimator argument name=value, for all"
    )
    parser.add_argument(
        "--pretrain-dropout",
        type=float,
        default=None,
        metavar="RATE",
        help="pretrain on inputs corrupted by keras.layers.Dropout(RATE), in [0, 1)",
    )
    parser.add_argument(
        "--pretrain-corruption",
        choices=["zero", "mean"],
        default=None,
        help="with --pretrain-dropout: dropped entries become 0 (keras.layers.Dropout as "
        "`augmentation`, the default) or their feature's mean (`pretrain_corruption`)",
    )
    parser.add_argument(
        "--pretrain-lr",
        type=float,
        default=None,
        metavar="LR",
        help="pretrain with Adam(LR) (default: the estimators' Adam(1e-3))",
    )
    parser.add_argument(
        "--pretrain-cosine",
        action="store_true",
        help="decay the pretraining's learning rate to 0 along a cosine over its steps",
    )
    parser.add_argument(
        "--start",
        nargs="+",
        choices=STARTS,
        default=["kmeans"],
        help="fit the DEC and IDEC variants from each of these partitions of the embedding",
    )
    add_json_argument(parser, "dec_self_training_sweep")
    args = parser.parse_args()
    if args.pretrain_lr is not None and not args.pretrain_lr > 0:
        parser.error(f"--pretrain-lr should be > 0. Received: {args.pretrain_lr}")
    if args.pretrain_dropout is not None and not 0 <= args.pretrain_dropout < 1:
        parser.error(f"--pretrain-dropout should be in [0, 1). Received: {args.pretrain_dropout}")
    if args.pretrain_corruption is not None and args.pretrain_dropout is None:
        parser.error(
            f"--pretrain-corruption {args.pretrain_corruption} needs --pretrain-dropout RATE"
        )
    variants = args.variant or [""]
    common = {}
    for item in args.param:  # one name=value each: a value may hold commas (dims=(64, 10))
        key, _, value = item.partition("=")
        common[key.strip()] = ast.literal_eval(value)
    rows = []

    x, y = load(args.data, args.mnist_path)
    n_clusters = len(np.unique(y))
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="dec_sweep_"))
    variants = [parse_variant(variant) for variant in variants]  # bad ones fail before any fit
    results = {}
    learning_rate = args.pretrain_lr  # None: the estimators' default pretraining optimizer
    if learning_rate is None and args.pretrain_cosine:  # its learning rate, decayed
        learning_rate = float(default_pretrain_optimizer().learning_rate)
    suffix = row_suffix(
        common, args.pretrain_dropout, args.pretrain_corruption, learning_rate, args.pretrain_cosine
    )
    for seed in args.seeds:
        settings = {**common, "max_iter": 0, "random_state": seed, "verbose": 0}
        if args.pretrain_dropout is not None and args.pretrain_corruption == "mean":
            settings["pretrain_corruption"] = args.pretrain_dropout
        elif args.pretrain_dropout is not None:  # element-wise: any image shape of a row will do
            settings["augmentation"] = keras.layers.Dropout(args.pretrain_dropout, seed=seed)
            settings["image_shape"] = (x.shape[1], 1)
        if learning_rate is not None:
            steps = pretrain_steps(len(x), settings)
            settings["pretrain_optimizer"] = keras.optimizers.Adam(
                pretrain_schedule(learning_rate, steps if args.pretrain_cosine else None)
            )
        pretrained = DEC(n_clusters, **settings).fit(x)
        weights = str(workdir / f"ae_{seed}.weights.h5")
        pretrained.autoencoder_.save_weights(weights)
        print(f"seed {seed}: pretraining {pretrained.fit_time_:.1f}s", flush=True)
        embedding = pretrained.transform(x).astype("float64")
        # N2D, and a variant that sets its own `init`, do not start from a partition: run once.
        own_start = [(cls is N2D or "init" in params) for _, cls, params in variants]
        runs = [
            (start, *variant)
            for start in args.start
            for variant, own in zip(variants, own_start, strict=True)
            if not own
        ]
        runs += [(None, *variant) for variant, own in zip(variants, own_start, strict=True) if own]
        starts = {}
        for start, name, estimator_class, params in runs:
            start_name = start or "kmeans"  # N2D and own-init runs: scored against k-means
            if start_name not in starts:
                labels = start_partition(
                    start_name, embedding, n_clusters, seed, pretrained.kmeans_
                )
                starts[start_name] = (
                    labels,
                    clustering_accuracy(y, labels),
                    normalized_mutual_info(y, labels),
                )
                print(
                    f"  {start_name} start: ACC {starts[start_name][1]:.4f} "
                    f"NMI {starts[start_name][2]:.4f}",
                    flush=True,
                )
                if args.confusion:
                    print(matched_confusion(y, labels), flush=True)
            labels, start_acc, start_nmi = starts[start_name]
            from_start, label = {}, name
            if start_name != "kmeans":
                label += f", from the {start_name} start"
                from_start["init"] = partition_means(embedding, labels, n_clusters)
            dec = estimator_class(
                n_clusters,
                autoencoder_weights=weights,
                random_state=seed,
                verbose=0,
                **{**common, **from_start, **params},
            ).fit(x)
            acc = clustering_accuracy(y, dec.labels_)
            nmi = normalized_mutual_info(y, dec.labels_)
            results.setdefault(label, []).append((acc, nmi))
            batches = getattr(dec, "n_iter_", None)  # N2D runs no clustering batches
            converged = getattr(dec, "converged_", None)
            print(
                f"  [{label}] ACC {acc:.4f} NMI {nmi:.4f}, {batches} batches, "
                f"converged={converged}, fit from the weights {dec.fit_time_:.1f}s",
                flush=True,
            )
            if args.confusion:
                print(matched_confusion(y, dec.labels_), flush=True)
            rows.append(
                dict(benchmark="dec_self_training_sweep", data=args.data,
                     method=label + suffix, seed=seed, acc=acc, nmi=nmi,
                     batches=None if batches is None else int(batches),
                     converged=None if converged is None else bool(converged),
                     seconds=dec.fit_time_, start_acc=start_acc, start_nmi=start_nmi)
            )  # fmt: skip
            write_rows(args.json, rows)
    print()
    for name, scores in results.items():
        accs, nmis = zip(*scores, strict=True)
        print(
            f"[{name}] median over {len(scores)} seeds: "
            f"ACC {statistics.median(accs):.4f} NMI {statistics.median(nmis):.4f}"
        )


if __name__ == "__main__":
    main()
