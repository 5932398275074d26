import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cluster.row_source import RowSource


def draw(dataset, count):
    return [tuple(np.asarray(t) for t in item) for item in dataset.take(count)]


class Batches(keras.utils.PyDataset):
    def __init__(self, x, batch_size):
        super().__init__()
        self.x, self.batch_size = x, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        return self.x[index * self.batch_size : (index + 1) * self.batch_size]


@pytest.fixture
def x(rng):
    return rng.normal(size=(23, 3)).astype("float32")


def test_array_batches_are_a_fresh_permutation_each_pass_and_resume_by_number(x):
    start = tf.Variable(0, dtype=tf.int64)
    source = RowSource(x)
    batches = draw(source.training_batches(5, start, seed=3), 14)  # 70 rows: 3 passes + 1
    positions = np.concatenate([p for _, p in batches])
    for rows, p in batches:
        np.testing.assert_array_equal(rows, x[p])
    passes = [positions[i * 23 : (i + 1) * 23] for i in range(3)]
    for one in passes:
        np.testing.assert_array_equal(np.sort(one), np.arange(23))
    assert not np.array_equal(passes[0], passes[1])
    # Numbered from 6, the stream is the uninterrupted one from its batch 6 on.
    start.assign(6)
    resumed = draw(source.training_batches(5, start, seed=3), 8)
    for (_, a), (_, b) in zip(resumed, batches[6:], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["tf.data", "PyDataset"])
def test_streams_keep_their_order_and_resume_by_number(x, kind):
    data = (
        tf.data.Dataset.from_tensor_slices(x).batch(4)
        if kind == "tf.data"
        else Batches(x, batch_size=4)
    )
    source = RowSource(data)
    assert (source.n_rows, source.n_features, source.n_batches, source.streamed) == (23, 3, 6, True)
    mean, variance = source.moments()
    np.testing.assert_allclose(mean, x.astype("float64").mean(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(variance, x.astype("float64").var(0), rtol=1e-12)
    start = tf.Variable(0, dtype=tf.int64)
    batches = draw(source.training_batches(4, start), 9)
    positions = np.concatenate([p for _, p in batches])
    np.testing.assert_array_equal(positions[:23], np.arange(23))
    np.testing.assert_array_equal(positions[23:], np.arange(len(positions) - 23))
    for rows, p in batches:
        np.testing.assert_array_equal(rows, x[p])
    start.assign(8)  # batch 8 is the stream's batch 2 of its second pass
    (rows, p), *_ = draw(source.training_batches(4, start), 1)
    np.testing.assert_array_equal(p, np.arange(8, 12))
    one_pass = np.concatenate(list(source.batches(4).as_numpy_iterator()))
    np.testing.assert_array_equal(one_pass, x)


def test_array_moments_are_float64_numpy(x):
    mean, variance = RowSource(x).moments()
    np.testing.assert_allclose(mean, x.astype("float64").mean(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(variance, x.astype("float64").var(0), rtol=1e-12)


def test_bad_streams():
    with pytest.raises(ValueError, match="2-D"):
        RowSource(np.zeros(4))
    with pytest.raises(ValueError, match="2-D batches"):
        RowSource(tf.data.Dataset.from_tensor_slices(np.zeros((4, 2, 2))).batch(2))
    with pytest.raises(ValueError, match="finite"):
        RowSource(tf.data.Dataset.from_tensors(np.array([[np.nan, 1.0]])))
    with pytest.raises(ValueError, match="at least one row"):
        RowSource(tf.data.Dataset.from_tensor_slices(np.zeros((0, 2))).batch(2))
