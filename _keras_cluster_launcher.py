"""The `keras-cluster` console script: arguments parsed before TensorFlow is imported.

A console script inside the package would run the package's `__init__`, which imports every
subpackage and so TensorFlow (seconds, and start-up lines on stderr) before `--help` could be
answered. This top-level module imports the package with `_KERAS_CLUSTER_COMMAND_LINE=1` (the
variable `keras_cluster.COMMAND_LINE_ENV_VAR` names), which makes that import lazy, as
`python -m keras_cluster`'s is, then hands over to `keras_cluster.cli.main`: it parses the
arguments first and imports TensorFlow, with its start-up lines silenced, only to run.
"""

import os

COMMAND_LINE_ENV_VAR = "_KERAS_CLUSTER_COMMAND_LINE"


def main(argv=None):
    """Run `keras_cluster.cli.main(argv)` after a lazy import of the package."""
    previous = os.environ.get(COMMAND_LINE_ENV_VAR)
    os.environ[COMMAND_LINE_ENV_VAR] = "1"
    try:
        from keras_cluster import cli
    finally:  # not inherited by what the command starts
        if previous is None:
            del os.environ[COMMAND_LINE_ENV_VAR]
        else:
            os.environ[COMMAND_LINE_ENV_VAR] = previous
    return cli.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
