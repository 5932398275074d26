import numpy as np
import pytest
import tensorflow as tf

from keras_cluster.optimizers.curvature_sample import curvature_sample

MASK = np.uint64(0xFFFFFFFF)


def numpy_fmix32(h):
    """MurmurHash3's fmix32 in uint64 NumPy (exact products, reduced to 32 bits)."""
    h = h.astype(np.uint64)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & MASK
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & MASK
    return h ^ (h >> np.uint64(16))


def numpy_sample(rows, size, seed, step):
    offset = numpy_fmix32((np.uint64(seed) + numpy_fmix32(np.array([step]))) & MASK)
    keys = numpy_fmix32((np.arange(rows, dtype=np.uint64) * np.uint64(0x9E3779B1) + offset) & MASK)
    return np.argsort(keys, kind="stable")[: min(rows, size)]


@pytest.mark.parametrize("rows, size, seed", [(20, 4, 0), (20, 50, 3), (1437, 32, 2**31 - 2)])
def test_sample_matches_numpy_formula_and_is_distinct(rows, size, seed):
    for step in (0, 1, 2**40):
        index = np.asarray(curvature_sample(rows, size, seed, step))
        np.testing.assert_array_equal(index, numpy_sample(rows, size, seed, step))
        assert len(index) == min(rows, size) == len(set(index.tolist()))
        assert index.min() >= 0 and index.max() < rows


def test_sample_is_the_same_with_xla_and_in_a_graph():
    def draw(rows, step):
        return curvature_sample(rows, 5, 9, step)

    graph = tf.function(draw)
    xla = tf.function(draw, jit_compile=True)
    for step in range(4):
        args = (tf.constant(30), tf.constant(step, tf.int64))
        eager = np.asarray(draw(30, step))
        np.testing.assert_array_equal(graph(*args).numpy(), eager)
        np.testing.assert_array_equal(xla(*args).numpy(), eager)


def test_every_example_is_drawn_about_equally_often():
    rows, size, steps = 40, 8, 2000
    counts = np.zeros(rows)
    for step in range(steps):
        counts[np.asarray(curvature_sample(rows, size, 1, step))] += 1
    expected = steps * size / rows  # 400, binomial standard deviation about 18
    assert np.all(np.abs(counts - expected) < 6 * np.sqrt(expected * (1 - size / rows)))
    # Another seed, another sequence.
    first, other = (np.asarray(curvature_sample(rows, size, seed, 0)) for seed in (1, 2))
    assert not np.array_equal(first, other)
