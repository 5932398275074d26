"""Datasets for the examples and benchmarks: scikit-learn's digits (embedded) and MNIST.

MNIST is looked up locally first so that nothing is downloaded when a copy exists:

1. the `path` argument (a `.npz` file, or a folder holding `mnist.npz`);
2. the environment variable `KERAS_CLUSTER_DATA` (a file, or a folder holding `mnist.npz`);
3. `~/.keras/datasets/mnist.npz` (where `keras.datasets.mnist.load_data()` caches it);
4. `keras.datasets.mnist.load_data()`, which downloads it (needs the network).

The file is Keras' `mnist.npz`: arrays `x_train (60000, 28, 28)`, `y_train`, `x_test
(10000, 28, 28)`, `y_test`, uint8.
"""

import os
from pathlib import Path

import numpy as np

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import InstanceOf, Options, validate

__all__ = ["find_mnist", "load_digits", "load_mnist"]

MNIST_FILENAME = "mnist.npz"
DATA_ENV_VAR = "KERAS_CLUSTER_DATA"
SUBSETS = ("test", "train", "all")
PATH = InstanceOf(str, os.PathLike, description="a file or folder path (str or os.PathLike)")


@keras_cluster_export("keras_cluster.datasets.load_digits")
def load_digits():
    """scikit-learn's 8x8 handwritten digits, scaled to [0, 1]: the CLI's default data.

    Returns:
        `(X, y)`: `X` float32 of shape `(1797, 64)`, pixel intensities / 16; `y` int64 labels
        0-9.

    Example:

    >>> X, y = load_digits()
    >>> X.shape, X.dtype.name, int(y.max())
    ((1797, 64), 'float32', 9)

    References:
        Alpaydin & Kaynak, "Optical Recognition of Handwritten Digits", UCI 1998.
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    X, y = sklearn_load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def _resolve(candidate, origin):
    """`candidate` itself if a file, `candidate/mnist.npz` if a folder; else FileNotFoundError."""
    candidate = Path(candidate).expanduser()
    if candidate.is_dir():
        candidate = candidate / MNIST_FILENAME
    if not candidate.is_file():
        raise FileNotFoundError(
            f"MNIST file not found at {str(candidate)!r} (from {origin}). Expected Keras' "
            f"{MNIST_FILENAME} with arrays x_train, y_train, x_test, y_test."
        )
    return candidate


@keras_cluster_export("keras_cluster.datasets.find_mnist")
def find_mnist(path=None):
    """The local `mnist.npz` to use, in the lookup order of this module; None if none exists.

    Args:
        path: explicit `.npz` file or folder holding `mnist.npz`; must exist if given.

    Returns:
        A `pathlib.Path`, or None when neither `path`, `$KERAS_CLUSTER_DATA` nor
        `~/.keras/datasets/mnist.npz` is given or present.

    Raises:
        FileNotFoundError: `path` or `$KERAS_CLUSTER_DATA` is given but holds no MNIST file
            (a wrong setting is reported rather than skipped).
    """
    validate("path", path, None, PATH)
    if path is not None:
        return _resolve(path, "the `path` argument")
    from_env = os.environ.get(DATA_ENV_VAR)
    if from_env:
        return _resolve(from_env, f"${DATA_ENV_VAR}")
    cached = Path.home() / ".keras" / "datasets" / MNIST_FILENAME
    if cached.is_file():
        return cached
    return None


def _read_npz(file):
    with np.load(file) as data:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(data.files)
        if missing:
            raise ValueError(
                f"`path` {str(file)!r} is not Keras' mnist.npz: arrays {sorted(missing)} are "
                f"missing. Received arrays: {sorted(data.files)}"
            )
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


@keras_cluster_export("keras_cluster.datasets.load_mnist")
def load_mnist(path=None, subset="test"):
    """MNIST as flat float vectors in [0, 1], found locally when possible (see module doc).

    Args:
        path: optional `.npz` file, or folder holding `mnist.npz`.
        subset: `"test"` (10,000 images, the default: the DEC benchmarks' split), `"train"`
            (60,000) or `"all"` (70,000, train then test).

    Returns:
        `(X, y)`: `X` float32 of shape `(n, 784)`, pixels / 255; `y` int64 labels 0-9.

    Raises:
        ValueError: `subset` is not one of "test", "train", "all", or the file lacks the arrays.
        FileNotFoundError: `path` or `$KERAS_CLUSTER_DATA` names no file, or no local copy
            exists and the download fails (offline); the message says where to put the file.

    Example:

    `X, y = load_mnist()` reads the test split from the first copy found. Here a file of the
    same layout, with 3 test images, stands in for Keras' `mnist.npz`:

    >>> import tempfile
    >>> import numpy as np
    >>> path = f"{tempfile.mkdtemp()}/mnist.npz"
    >>> images, digits = np.zeros((3, 28, 28), "uint8"), np.array([7, 2, 1], "uint8")
    >>> np.savez(path, x_train=images, y_train=digits, x_test=images, y_test=digits)
    >>> X, y = load_mnist(path, subset="test")
    >>> X.shape, y.tolist()
    ((3, 784), [7, 2, 1])

    References:
        LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document
        recognition", Proc. IEEE 1998.
    """
    validate("subset", subset, Options(*SUBSETS))
    file = find_mnist(path)
    if file is not None:
        (x_train, y_train), (x_test, y_test) = _read_npz(file)
    else:
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        except Exception as error:
            raise FileNotFoundError(
                "MNIST is not available locally and could not be downloaded "
                f"({type(error).__name__}: {error}). Put Keras' {MNIST_FILENAME} at "
                f"~/.keras/datasets/{MNIST_FILENAME}, or set ${DATA_ENV_VAR} to the file (or "
                "its folder), or pass `path=`. Download it from "
                "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
            ) from error
    parts = {"train": [(x_train, y_train)], "test": [(x_test, y_test)]}
    parts["all"] = parts["train"] + parts["test"]
    X = np.concatenate([x for x, _ in parts[subset]])
    y = np.concatenate([y for _, y in parts[subset]])
    return X.reshape(len(X), -1).astype(np.float32) / np.float32(255), y.astype(np.int64)
