"""The JSON rows that every benchmark writes, and where they go.

One schema for every benchmark: a JSON file holds a list of rows, each a flat object with

- `benchmark`: the module's name (`"lm_rosenbrock_6d"`); rows without it are
  `clustering_quality` rows (its format predates this schema and is kept as it is);
- `data` or `problem`: what was fitted or timed;
- `method`: who fitted or timed it (ours, a peer, a baseline);
- `seed`: the seed of the data or of the initial weights (0 where there is only one);
- the figures, as numbers (`seconds`, `val_mse`, `acc`, `peak_rss_gb`, ...);
- optionally `baseline`: the `method`s of rows of the same benchmark, problem and seed whose
  `seconds` this row's `seconds` is compared with (the report's speed ratios, ours / theirs);
- optionally `curve`: the loss against wall time of a training run, one entry per epoch:
  `{"seconds": [...], "loss": [...], "val_loss": [...]}` (seconds since `fit` began, the time
  spent computing the validation figures left out), with `val_accuracy` for classifiers;
- optionally `plot`: the name of the loss-against-time plot the curve goes to (default: the
  problem), so that runs of one problem with different stopping rules share their axes;
- `machine`, `date` and `command` (how the rows were made), added by `write_rows`.

Rows go to `benchmarks/results/<name>.json` (not tracked by git); `benchmarks.report` turns them
into `benchmarks/RESULTS.md`.
"""

import datetime
import json
import os
import pathlib
import platform
import shlex
import sys

ROOT = pathlib.Path(__file__).resolve().parent
RESULTS = ROOT / "results"


def machine():
    """One line naming the CPU, the GPUs TensorFlow sees and the library versions."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import keras
    import sklearn
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return (
        f"{os.cpu_count()} logical CPUs ({cpu}), "
        f"{f'{len(gpus)} GPU(s)' if gpus else 'no GPU'}; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )


def default_path(name):
    """`benchmarks/results/<name>.json`."""
    return str(RESULTS / f"{name}.json")


def add_json_argument(parser, name):
    """`--json PATH`, by default `benchmarks/results/<name>.json`."""
    parser.add_argument(
        "--json",
        default=default_path(name),
        help=f"write the rows to this JSON file (default: benchmarks/results/{name}.json)",
    )


def command():
    """The command line of this process, as `python -m <module> <arguments>` when run so."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    program = f"python -m {spec.name}" if spec is not None else f"python {sys.argv[0]}"
    text = " ".join([program, *map(shlex.quote, sys.argv[1:])])
    return text.replace(f"{ROOT.parent}{os.sep}", "")  # paths in this checkout: relative


def write_rows(path, rows):
    """Write `rows` to `path` as a JSON list, each stamped with the machine, the UTC date and
    the command.

    Called after every run of a long benchmark, so that an interrupted one keeps its rows.
    """
    if not path:
        return
    stamp = {
        "machine": machine(),
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        "command": command(),
    }
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{**stamp, **row} for row in rows], indent=1) + "\n")


def child_env():
    """`os.environ` with this checkout first on `PYTHONPATH`, for benchmarks run in a subprocess."""
    paths = [str(ROOT.parent), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def peer_available(module, name):
    """Whether `module` imports; if not, print a one-line notice that `name`'s rows are left out."""
    import importlib.util

    if importlib.util.find_spec(module) is not None:
        return True
    print(
        f"{name} is not importable: its rows are left out "
        "(benchmarks/requirements-peers.txt says how to install it)",
        flush=True,
    )
    return False
