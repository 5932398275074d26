import keras
import numpy as np
import pytest

from keras_cluster import datasets
from keras_cluster.datasets import find_mnist, load_digits, load_mnist


def write_fake_mnist(file, n_train=6, n_test=4, marker=0):
    """A tiny mnist.npz: image i of each split is filled with the value `marker + i`."""
    file.parent.mkdir(parents=True, exist_ok=True)
    x_train = (marker + np.arange(n_train, dtype=np.uint8))[:, None, None] * np.ones(
        (1, 28, 28), np.uint8
    )
    x_test = (marker + 100 + np.arange(n_test, dtype=np.uint8))[:, None, None] * np.ones(
        (1, 28, 28), np.uint8
    )
    np.savez(
        file,
        x_train=x_train,
        y_train=np.arange(n_train, dtype=np.uint8) % 10,
        x_test=x_test,
        y_test=np.arange(n_test, dtype=np.uint8) % 10,
    )
    return file


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $KERAS_CLUSTER_DATA, a fresh empty home, and a Keras loader that must not be called."""
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))

    def offline():
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    return home


def test_load_digits():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_subsets_shapes_scaling_and_dtypes(isolated, tmp_path):
    file = write_fake_mnist(tmp_path / "data" / "mnist.npz")
    X, y = load_mnist(file)
    assert X.shape == (4, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0], (100 + np.arange(4)) / 255.0, rtol=1e-6)
    X, y = load_mnist(file, subset="train")
    assert X.shape == (6, 784)
    X, y = load_mnist(file, subset="all")
    assert X.shape == (10, 784)
    np.testing.assert_array_equal(y, [0, 1, 2, 3, 4, 5, 0, 1, 2, 3])


def test_lookup_order(isolated, tmp_path, monkeypatch):
    cached = write_fake_mnist(isolated / ".keras" / "datasets" / "mnist.npz", marker=1)
    assert find_mnist() == cached
    assert load_mnist()[0][0, 0] == pytest.approx(101 / 255)

    env_folder = tmp_path / "env"
    write_fake_mnist(env_folder / "mnist.npz", marker=2)
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(env_folder))
    assert find_mnist() == env_folder / "mnist.npz"
    assert load_mnist()[0][0, 0] == pytest.approx(102 / 255)

    env_file = write_fake_mnist(tmp_path / "other.npz", marker=3)
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(env_file))
    assert find_mnist() == env_file

    explicit = write_fake_mnist(tmp_path / "explicit" / "mnist.npz", marker=4)
    assert load_mnist(explicit)[0][0, 0] == pytest.approx(104 / 255)
    assert load_mnist(explicit.parent)[0][0, 0] == pytest.approx(104 / 255)


def test_download_is_the_last_resort(isolated, monkeypatch, tmp_path):
    calls = []

    def fake_download():
        calls.append(1)
        with np.load(write_fake_mnist(tmp_path / "downloaded.npz", marker=5)) as d:
            return (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fake_download)
    X, _ = load_mnist()
    assert calls == [1] and X[0, 0] == pytest.approx(105 / 255)


def test_offline_without_local_copy_says_where_to_put_it(isolated):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist()
    message = str(info.value)
    assert "~/.keras/datasets/mnist.npz" in message and "KERAS_CLUSTER_DATA" in message
    assert "network is unreachable" in message


def test_wrong_path_or_env_is_reported(isolated, tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"nowhere\.npz.*`path` argument"):
        load_mnist(tmp_path / "nowhere.npz")
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path / "empty_folder"))
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty_folder/mnist\.npz.*KERAS_CLUSTER_DATA"):
        load_mnist()


def test_bad_subset_and_bad_file(isolated, tmp_path):
    with pytest.raises(ValueError, match=r"`subset` should be one of.*subset='validation'"):
        load_mnist(subset="validation")
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros(3))
    with pytest.raises(ValueError, match=r"missing.*Received arrays: \['images'\]"):
        load_mnist(bad)
