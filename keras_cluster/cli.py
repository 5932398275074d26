"""`keras-cluster`: deep clustering from the command line.

With no arguments it clusters scikit-learn's digits (embedded in scikit-learn, no download) with
DEC, prints ACC / NMI / ARI and the time, and writes the labels (CSV), an embedding plot (PNG)
and a summary (JSON) to `keras_cluster_output/`. Given a `.npy` or `.csv` file of features it
clusters that instead (scores only with `--labels`). The features are used as given: the
normalization is fitted inside the model (`--normalization`), so an exported model takes the same
raw rows.

    keras-cluster
    keras-cluster features.csv --labels labels.csv --n-clusters 5 --method idec --export
    keras-cluster features.csv --method n2d --normalization feature
    python -m keras_cluster --help

Bad input (a missing file, a non-numeric cell, a wrong count of labels) is reported on stderr
with exit code 2; anything else is an error of the program and shows as a traceback (exit code 1).
Rows and columns in the messages are counted from 1, as a spreadsheet shows them. The command
writes only under `--out`; a later run into the same folder first removes the outputs the
previous run listed in its `summary.json`, and nothing else.

The arguments and the data are checked before TensorFlow is imported (`ENGINE_MODULES`, with
TensorFlow's start-up lines silenced), so `--help` and usage errors answer at once.
"""

import argparse
import csv
import importlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

import keras_cluster

PROG = "keras-cluster"
DEFAULT_OUT = "keras_cluster_output"
METHODS = ("dec", "idec", "n2d")
NORMALIZATION_CHOICES = ("global", "feature", "none")
# What a run may write under --out: summary.json lists the ones it wrote, and the next run into
# the same folder removes exactly those (never a file it did not write).
OUTPUT_FILES = ("labels.csv", "embedding.png", "summary.json")
SAVED_MODEL = "saved_model"
# The modules that import TensorFlow, imported only to run (not for --help or usage errors):
# the subpackages, in the order `import keras_cluster` imports them (callbacks before models and
# estimators: `models.autoencoder` and `callbacks.dec_self_training` import each other's modules).
ENGINE_MODULES = tuple(f"keras_cluster.{name}" for name in keras_cluster.SUBPACKAGES)


class UsageError(Exception):
    """Bad input from the command line: reported on stderr, exit code 2."""


def _positive_int(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, received {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, received {value}")
        return value

    return parse


def _dims(text):
    try:
        dims = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 500,500,2000,10, received {text!r}"
        ) from None
    if not dims or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"expected positive widths, received {text!r}")
    return dims


def build_parser():
    """The argument parser of `keras-cluster` (also used for `--help`)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Deep clustering (DEC / IDEC / N2D) in Keras 3. Without DATA, clusters "
            "scikit-learn's digits and reports ACC / NMI / ARI against their labels."
        ),
        epilog=(
            "Writes labels.csv, embedding.png, summary.json (and saved_model/ with --export) "
            "to the output folder. Exit code 2 on bad input."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {keras_cluster.__version__}"
    )
    parser.add_argument(
        "data",
        nargs="?",
        help="features to cluster: .npy (2-D array) or .csv (one row per sample, numbers only, "
        "an optional header line); default: the embedded digits",
    )
    parser.add_argument(
        "--labels",
        help="true labels for DATA, for scores: .npy, .csv or .txt, one per sample, integers or "
        "names (names are numbered in sorted order); an optional header line, and a first "
        "column 0..n-1 (pandas' index) is skipped",
    )
    parser.add_argument("--n-clusters", type=_positive_int(1), default=10, help="default 10")
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="dec",
        help="default dec; n2d needs the umap extra (pip install 'keras-cluster[umap]')",
    )
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output folder, default {DEFAULT_OUT}/")
    parser.add_argument(
        "--export",
        action="store_true",
        help="also export the fitted model (raw rows X -> q) as a SavedModel to "
        "OUT/saved_model (dec and idec: n2d's UMAP is not a Keras layer)",
    )
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("--quiet", action="store_true", help="no progress, only the results")
    verbosity.add_argument(
        "--verbose", action="store_true", help="also Keras' line per epoch of every stage"
    )
    parser.add_argument(
        "--normalization",
        choices=NORMALIZATION_CHOICES,
        default="global",
        help="input normalization fitted on DATA inside the model: global (default: centre each "
        "feature, divide all by one common scale, keeping the data's geometry), feature "
        "(standardize each feature: columns in unrelated units), none",
    )
    parser.add_argument(
        "--random-state", type=_positive_int(0), default=0, help="seed of the run, default 0"
    )
    budget = parser.add_argument_group(
        "training budget (defaults: the estimator's own, the ones behind the README figures)"
    )
    budget.add_argument("--dims", type=_dims, help="encoder widths, e.g. 500,500,2000,10")
    budget.add_argument("--pretrain", choices=("layerwise", "end_to_end"))
    budget.add_argument(
        "--pretrain-epochs", type=_positive_int(0), help="epochs per layer pair (layer-wise)"
    )
    budget.add_argument(
        "--finetune-epochs", type=_positive_int(0), help="end-to-end autoencoder epochs"
    )
    budget.add_argument(
        "--max-iter", type=_positive_int(0), help="maximum clustering (self-training) batches"
    )
    budget.add_argument("--update-interval", type=_positive_int(1), help="batches between P")
    budget.add_argument("--batch-size", type=_positive_int(1))
    plot = parser.add_argument_group("plot")
    plot.add_argument(
        "--plot-samples",
        type=_positive_int(2),
        default=2000,
        help="points in the t-SNE plot, default 2000",
    )
    plot.add_argument("--no-plot", action="store_true", help="skip the embedding plot")
    return parser


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_rows(path):
    """`(line, cells)` of each non-empty row of a CSV file, lines counted from 1."""
    with open(path, newline="") as file:
        reader = csv.reader(file)
        return [(reader.line_num, [cell.strip() for cell in row]) for row in reader if row]


def _has_header(rows):
    """A first row with a cell that is text, not a number, is a header (`label`, `,label`)."""
    return bool(rows) and any(cell and not _is_number(cell) for cell in rows[0][1])


def _read_csv(path):
    """Float64 rows of a CSV file of numbers, with an optional header line.

    A cell that is not a number is reported by its line and column in the file, both counted
    from 1.
    """
    with open(path, newline="") as file:
        first = next(csv.reader(file), [])
    skip = 1 if _has_header([(1, [cell.strip() for cell in first])]) else 0
    try:
        return np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2, skiprows=skip)
    except ValueError:
        pass
    rows = _csv_rows(path)  # the fast reader failed: find the first bad cell for the message
    rows = rows[1:] if _has_header(rows) else rows
    for line, row in rows:
        if len(row) != len(rows[0][1]):
            raise UsageError(
                f"{str(path)!r}: line {line} has {len(row)} columns, line {rows[0][0]} has "
                f"{len(rows[0][1])} (lines and columns counted from 1)"
            )
        for column, cell in enumerate(row, start=1):
            if not _is_number(cell):
                raise UsageError(
                    f"{str(path)!r}: line {line}, column {column} is not a number: {cell!r} "
                    "(lines and columns counted from 1)"
                )
    raise UsageError(f"cannot read {str(path)!r} as rows of numbers separated by commas")


def _existing_file(path, what, suffixes):
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{what} file not found: {str(path)!r}")
    if path.suffix.lower() not in suffixes:
        raise UsageError(
            f"{what} file should end in {' or '.join(suffixes)}. Received: {str(path)!r}"
        )
    return path


def load_features(path):
    """Float32 matrix `(n_samples, n_features)` from a `.npy` or `.csv` file."""
    path = _existing_file(path, "data", (".npy", ".csv"))
    if path.suffix.lower() == ".npy":
        X = _load_npy(path)
    else:
        X = _read_csv(path)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise UsageError(
            f"data should be a non-empty 2-D array (samples x features). Received: shape "
            f"{X.shape} from {str(path)!r}"
        )
    if not np.issubdtype(X.dtype, np.number):
        raise UsageError(f"data should be numeric. Received: dtype {X.dtype} from {str(path)!r}")
    finite = np.isfinite(X)
    if not finite.all():
        row, column = np.argwhere(~finite)[0] + 1
        raise UsageError(
            f"data should not contain NaN or inf. Received: {X[row - 1, column - 1]} at row "
            f"{row}, column {column} (samples and features counted from 1) of {str(path)!r}"
        )
    return X.astype(np.float32)


def _load_npy(path):
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        raise UsageError(f"cannot read {str(path)!r} as a NumPy array: {error}") from None


def load_labels(path, n_samples):
    """One label per sample from `.npy`, `.csv` or `.txt`, as integers `0..c-1` or as given.

    Integer labels are kept. Labels of any other kind (names such as `"cat"`, or `1.5`) are
    numbered in sorted order of their values, `np.unique(y, return_inverse=True)`: the scores
    only compare partitions, so the numbering does not change them. In a text file of
    `n_samples + 1` lines the first is a header when it holds text (`label`, pandas' `,label`),
    and of two columns whose first is `0..n-1` (pandas' `to_csv` index, or this command's own
    `labels.csv`) the second holds the labels.
    """
    path = _existing_file(path, "labels", (".npy", ".csv", ".txt"))
    if path.suffix.lower() == ".npy":
        y = _load_npy(path)
    else:
        rows = [row for _, row in _csv_rows(path)]
        if len(rows) == n_samples + 1 and _has_header([(1, rows[0])]):
            rows = rows[1:]
        if len({len(row) for row in rows}) > 1:
            raise UsageError("labels should be one column. Received: rows of several lengths")
        y = np.array(rows, dtype=str).reshape(len(rows), -1)
        if y.shape[1] == 2 and all(
            _is_number(cell) and float(cell) == i for i, cell in enumerate(y[:, 0])
        ):
            y = y[:, 1]  # an index column 0..n-1 before the labels
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim == 1 and all(_is_number(cell) for cell in y):
            numbers = y.astype(np.float64)
            y = numbers.astype(np.int64) if np.all(numbers == np.round(numbers)) else numbers
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise UsageError(f"labels should be one column. Received: shape {y.shape}")
    if len(y) != n_samples:
        raise UsageError(
            f"labels should have one entry per sample ({n_samples}). Received: {len(y)} labels"
        )
    if not np.issubdtype(y.dtype, np.integer):
        y = np.unique(y, return_inverse=True)[1].reshape(-1)
    return y


def _previous_outputs(out, export):
    """The outputs a previous run listed in `out/summary.json`; refuses to write over others.

    Raises:
        UsageError: `out` is a file, or holds a `saved_model` that no previous run of this
            command listed and `export` would write there.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out should be a folder. Received: {str(out)!r} is a file")
    summary = out / "summary.json"
    try:
        listed = json.loads(summary.read_text()).get("outputs", [])
    except (OSError, ValueError, AttributeError):
        listed = []
    owned = [name for name in listed if name in (*OUTPUT_FILES, SAVED_MODEL)]
    if export and (out / SAVED_MODEL).exists() and SAVED_MODEL not in owned:
        raise UsageError(
            f"{str(out / SAVED_MODEL)!r} exists and was not written by a previous run of "
            f"{PROG}: remove it or choose another --out"
        )
    return owned


def _remove_outputs(out, names):
    """Remove the previous run's outputs `names` (files, and the `saved_model` folder)."""
    for name in names:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def _import_quietly(*modules):
    """Import `modules` (the ones that import TensorFlow) with stderr pointed at /dev/null.

    TensorFlow's C++ runtime writes lines to stderr on import (oneDNN, CUDA drivers, CPU
    features) before `TF_CPP_MIN_LOG_LEVEL` or absl logging can silence them (TensorFlow
    2.16-2.21). An error raised by the import is not hidden: stderr is back before the exception
    travels on. The devices are listed in the same quiet: on a machine with CUDA libraries and
    no driver, TensorFlow's first look for a GPU writes an error line (`failed call to cuInit`).
    Modules already imported are left alone.
    """
    missing = [module for module in modules if module not in sys.modules]
    if not missing:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                for module in missing:
                    importlib.import_module(module)
                # The devices too: without a GPU driver, finding none is an error line (cuInit).
                importlib.import_module("tensorflow").config.list_physical_devices()
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _estimator(args):
    budget = {
        "dims": args.dims,
        "pretrain": args.pretrain,
        "pretrain_epochs": args.pretrain_epochs,
        "finetune_epochs": args.finetune_epochs,
        "batch_size": args.batch_size,
    }
    if args.method != "n2d":
        budget.update(max_iter=args.max_iter, update_interval=args.update_interval)
    elif args.max_iter is not None or args.update_interval is not None:
        raise UsageError("--max-iter and --update-interval are DEC / IDEC settings, not n2d's")
    given = {name: value for name, value in budget.items() if value is not None}
    # TensorFlow only now, once the arguments and the data are known to be usable.
    _import_quietly(*ENGINE_MODULES)
    from keras_cluster.estimators import DEC, IDEC, N2D

    estimator_class = {"dec": DEC, "idec": IDEC, "n2d": N2D}[args.method]
    return estimator_class(
        args.n_clusters,
        normalization=None if args.normalization == "none" else args.normalization,
        random_state=args.random_state,
        verbose=0 if args.quiet else 2 if args.verbose else 1,
        **given,
    )


def run(args):
    """Cluster, score, and write the outputs for parsed `args`; returns the summary dict."""
    from keras_cluster.datasets import load_digits

    start = time.perf_counter()
    if args.data is None:
        if args.labels is not None:
            raise UsageError("--labels needs a DATA file (the digits bring their own labels)")
        X, y = load_digits()
        source = "digits"
    else:
        X = load_features(args.data)
        y = None if args.labels is None else load_labels(args.labels, len(X))
        source = str(args.data)
    if args.export and args.method == "n2d":
        raise UsageError(
            "--export is for dec and idec: n2d's UMAP step is not a Keras layer, so no "
            "SavedModel can hold the whole method"
        )
    if args.n_clusters > len(X):
        raise UsageError(
            f"--n-clusters should be <= the number of samples ({len(X)}). "
            f"Received: {args.n_clusters}"
        )
    out = Path(args.out)
    stale = _previous_outputs(out, args.export)
    say = (lambda *_, **__: None) if args.quiet else print
    say(
        f"{args.method.upper()} on {source}: {X.shape[0]} samples x {X.shape[1]} features, "
        f"{args.n_clusters} clusters, normalization {args.normalization}, "
        f"random_state={args.random_state}",
        flush=True,
    )
    estimator = _estimator(args)
    labels = estimator.fit_predict(X)
    fit_time = estimator.fit_time_

    out.mkdir(parents=True, exist_ok=True)
    _remove_outputs(out, stale)
    summary = {
        "method": args.method,
        "data": source,
        "n_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "n_clusters": args.n_clusters,
        "normalization": args.normalization,
        "random_state": args.random_state,
        "fit_time_s": round(fit_time, 3),
        "cluster_sizes": np.bincount(labels, minlength=args.n_clusters).tolist(),
    }
    if y is not None:
        from keras_cluster.metrics import (
            adjusted_rand_index,
            clustering_accuracy,
            normalized_mutual_info,
        )

        summary.update(
            acc=clustering_accuracy(y, labels),
            nmi=normalized_mutual_info(y, labels),
            ari=adjusted_rand_index(y, labels),
        )
        print(f"ACC {summary['acc']:.4f}  NMI {summary['nmi']:.4f}  ARI {summary['ari']:.4f}")
    else:
        print(f"cluster sizes {summary['cluster_sizes']} (no labels given: no scores)")

    labels_path = out / "labels.csv"
    np.savetxt(
        labels_path,
        np.column_stack([np.arange(len(labels)), labels]),
        fmt="%d",
        delimiter=",",
        header="index,cluster",
        comments="",
    )
    written = [labels_path]
    if not args.no_plot:
        from keras_cluster.plotting import plot_embedding

        try:
            written.append(
                plot_embedding(
                    estimator.transform(X),
                    labels,
                    out / "embedding.png",
                    centers=estimator.cluster_centers_,
                    n_samples=args.plot_samples,
                    random_state=args.random_state,
                    title=f"{args.method.upper()} on {source}: t-SNE of the embedding",
                )
            )
        except ImportError as error:
            print(f"{PROG}: plot skipped: {error}", file=sys.stderr)
    if args.export:
        export_path = out / "saved_model"
        estimator.model_.export(str(export_path), verbose=False)
        written.append(export_path)
    summary["wall_time_s"] = round(time.perf_counter() - start, 3)
    summary_path = out / "summary.json"
    written.append(summary_path)
    summary["outputs"] = [path.name for path in written]
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"fit {fit_time:.1f} s, wall time {summary['wall_time_s']:.1f} s")
    for path in written:
        print(f"wrote {path}")
    return summary


def main(argv=None):
    """Entry point of `keras-cluster` and `python -m keras_cluster`; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error already printed by argparse (2)
        return int(exit_.code or 0)
    try:
        run(args)
    except UsageError as error:  # only our own checks: anything else is a bug, with a traceback
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    return 0
