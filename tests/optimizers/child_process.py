"""The environment of a child Python process in a test that runs a script in a subprocess."""

import os
import pathlib

import keras_cluster


def child_env(**variables):
    """`os.environ` with this checkout's `keras_cluster` first on the path, CPU only, quiet TF.

    A script written to a temporary folder does not have the repository on its path: without
    this, the child would import whichever `keras_cluster` is installed, not the one under test.
    """
    root = str(pathlib.Path(keras_cluster.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return dict(
        os.environ, PYTHONPATH=path, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", **variables
    )
