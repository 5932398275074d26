"""The `keras-cluster` console script: the command line without TensorFlow's start-up lines.

`import keras_cluster` imports TensorFlow, whose C++ runtime writes lines to stderr (oneDNN,
CUDA drivers, CPU features) before `TF_CPP_MIN_LOG_LEVEL` or absl logging can silence them
(TensorFlow 2.16-2.21). A console script inside the package cannot run anything before the
package's `__init__`, so this top-level module imports it with stderr pointed at /dev/null,
restores stderr, and hands over to `keras_cluster.cli.main`. An error raised by the import is
not hidden: stderr is back before the exception travels on.
"""

import os


def main(argv=None):
    """Run `keras_cluster.cli.main(argv)` after a quiet import of the package."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                from keras_cluster import cli
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
    return cli.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
