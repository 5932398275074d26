"""The end-to-end pretraining's corruption: dropout in the units the autoencoder's layers see."""

import keras
import numpy as np
import pytest

from keras_cluster.models import build_autoencoder, fitted_normalization, pretrain_autoencoder
from keras_cluster.models.autoencoder import corrupter, normalize, reconstruction_dataset


def _normalized_autoencoder(x, mode="global"):
    autoencoder, _ = build_autoencoder(
        x.shape[1], dims=(5, 2), normalization=fitted_normalization(x, mode)
    )
    return autoencoder


def _batch(x, corrupt, batch_number):
    return keras.ops.convert_to_numpy(corrupt(x, batch_number)).astype(np.float64)


@pytest.mark.parametrize("mode", ["global", "feature"])
def test_dropped_entries_take_the_feature_mean_and_kept_ones_the_dropout_scale(rng, mode):
    x = (rng.normal(size=(400, 6)) * [1, 3, 10, 100, 0.1, 1] + [0, 5, -7, 100, 0, 1e3]).astype(
        "float32"
    )
    rate = 0.3
    corrupted = _batch(x, corrupter(_normalized_autoencoder(x, mode), rate, seed=0), 0)
    mean = x.astype(np.float64).mean(axis=0)  # the paper-free reference: float64 NumPy
    x64 = x.astype(np.float64)
    kept_value = mean + (x64 - mean) / (1 - rate)
    dropped = np.isclose(corrupted, mean, rtol=1e-5, atol=1e-4 * np.abs(x64 - mean).max(axis=0))
    kept = np.isclose(corrupted, kept_value, rtol=1e-5, atol=1e-3)
    assert np.all(dropped | kept)
    assert abs(dropped.mean() - rate) < 0.03  # 2,400 entries: about 3 standard deviations


def test_an_affine_rescaling_of_x_corrupts_alike(rng):
    x = rng.random((300, 5)).astype("float32")
    scale, offset = np.array([1.0, 1000.0, 0.01, 3.0, 1.0]), np.array([0.0, 0.0, 100.0, -5.0, 1e4])
    y = (x * scale + offset).astype("float32")
    from_x = _batch(x, corrupter(_normalized_autoencoder(x), 0.2, seed=4), 7)
    from_y = _batch(y, corrupter(_normalized_autoencoder(y), 0.2, seed=4), 7)
    # back in x's units; float32 holds 1e4 + x to about 1e-3
    np.testing.assert_allclose((from_y - offset) / scale, from_x, atol=2e-3)
    assert not np.allclose(from_x, x)


def test_without_a_normalization_dropped_entries_become_zero(rng):
    x = rng.random((200, 4)).astype("float32") + 1.0
    autoencoder, _ = build_autoencoder(4, dims=(3, 2))
    corrupted = _batch(x, corrupter(autoencoder, 0.5, seed=1), 0)
    kept = corrupted != 0
    np.testing.assert_allclose(corrupted[kept], 2.0 * x[kept], rtol=1e-6)
    assert 0.4 < 1 - kept.mean() < 0.6


def test_the_masks_depend_on_the_seed_and_the_batch_number_only(rng):
    x = rng.random((64, 8)).astype("float32")
    autoencoder = _normalized_autoencoder(x)
    first = _batch(x, corrupter(autoencoder, 0.4, seed=3), 5)
    np.testing.assert_array_equal(first, _batch(x, corrupter(autoencoder, 0.4, seed=3), 5))
    assert not np.array_equal(first, _batch(x, corrupter(autoencoder, 0.4, seed=3), 6))
    assert not np.array_equal(first, _batch(x, corrupter(autoencoder, 0.4, seed=4), 5))


def test_rate_zero_is_the_identity(rng):
    x = rng.random((4, 3)).astype("float32")
    autoencoder, _ = build_autoencoder(3, dims=(2,))
    assert corrupter(autoencoder, 0.0)(x, 0) is x


def test_each_batch_reconstructs_its_corrupted_rows_and_a_resumed_stream_draws_the_same(rng):
    x = rng.random((32, 6)).astype("float32")
    autoencoder = _normalized_autoencoder(x)
    batches = iter(reconstruction_dataset(autoencoder, x, 8, shuffle=False, seed=2, corruption=0.5))
    first, second = next(batches), next(batches)
    inputs, target = (keras.ops.convert_to_numpy(t) for t in first)
    assert not np.allclose(inputs, x[:8])  # corrupted
    np.testing.assert_allclose(target, keras.ops.convert_to_numpy(normalize(autoencoder, inputs)))
    start = keras.Variable(1, dtype="int64", trainable=False)  # as BatchPosition sets on a resume
    resumed = iter(
        reconstruction_dataset(
            autoencoder, x, 8, shuffle=False, seed=2, start=start, corruption=0.5
        )
    )
    np.testing.assert_array_equal(next(resumed)[0], second[0])


def test_every_pass_over_x_draws_new_masks(rng):
    x = rng.random((16, 6)).astype("float32")
    autoencoder = _normalized_autoencoder(x)
    batches = iter(reconstruction_dataset(autoencoder, x, 8, shuffle=False, seed=2, corruption=0.5))
    first_pass = [keras.ops.convert_to_numpy(next(batches)[0]) for _ in range(2)]
    second_pass = [keras.ops.convert_to_numpy(next(batches)[0]) for _ in range(2)]
    for before, after in zip(first_pass, second_pass, strict=True):  # the same rows, in order
        assert not np.array_equal(before, after)


def test_corrupted_pretraining_trains_and_is_repeatable(rng):
    x = rng.random((64, 6)).astype("float32")

    def pretrained():
        keras.utils.set_random_seed(0)
        autoencoder = _normalized_autoencoder(x)
        pretrain_autoencoder(autoencoder, x, finetune_epochs=3, corruption=0.2, seed=0)
        return autoencoder.get_weights()

    for a, b in zip(pretrained(), pretrained(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rate", [1.0, -0.1, "0.1"])
def test_a_rate_outside_zero_one_names_the_argument(rate):
    autoencoder, _ = build_autoencoder(3, dims=(2,))
    with pytest.raises(ValueError, match=f"corruption.*{rate!r}"):
        pretrain_autoencoder(autoencoder, np.zeros((4, 3), "float32"), corruption=rate)
