"""keras_cluster: deep clustering and second-order training for Keras 3 `model.fit`.

Subpackages: `layers`, `losses`, `optimizers`, `callbacks`, `metrics`, `models`, `estimators`,
`datasets`, `distribute`; `keras_cluster.plotting` (matplotlib, an optional dependency) is
imported on demand.

`import keras_cluster` imports the subpackages, which registers the package's Keras objects, so
a `.keras` file loads with no `custom_objects`. One start is lazy: the command line
(`python -m keras_cluster`, and the `keras-cluster` script) parses its arguments before
TensorFlow is imported, so `--help` and usage errors come at once; there the subpackages are
imported on first use (`keras_cluster.cli.run`).
"""

import importlib
import os
import sys

__version__ = "0.1.0"

SUBPACKAGES = (
    "callbacks",
    "datasets",
    "distribute",
    "estimators",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
)
# Set by the `keras-cluster` launcher (`_keras_cluster_launcher`) while it imports the package.
COMMAND_LINE_ENV_VAR = "_KERAS_CLUSTER_COMMAND_LINE"

__all__ = ["__version__", *SUBPACKAGES]


def _starting_the_command_line():
    """True while the command line imports the package, before it parses its arguments.

    `python -m keras_cluster` imports the package to find its `__main__`, and while it does,
    `sys.argv[0]` is `"-m"` (https://docs.python.org/3/using/cmdline.html#cmdoption-m); the
    console script's launcher sets `COMMAND_LINE_ENV_VAR` around its import.
    """
    return sys.argv[:1] == ["-m"] or os.environ.get(COMMAND_LINE_ENV_VAR) == "1"


if not _starting_the_command_line():
    from keras_cluster import (  # noqa: F401
        callbacks,
        datasets,
        distribute,
        estimators,
        layers,
        losses,
        metrics,
        models,
        optimizers,
    )


def __getattr__(name):
    """`keras_cluster.layers` and the like, imported on first use when the import was lazy."""
    if name in SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
