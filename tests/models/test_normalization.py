import keras
import numpy as np
import pytest

from keras_cluster.models import fitted_normalization, normalization_statistics


def _reference(x, mode):
    """The module docstring's formula, in float64 NumPy."""
    x = np.asarray(x, np.float64)
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)
    common = var.mean() if var.mean() > 0 else 1.0
    if mode == "global":
        return mean, np.full_like(mean, common)
    return mean, np.maximum(var, 1e-6 * common)


@pytest.mark.parametrize("mode", ["global", "feature"])
def test_statistics_follow_the_formula(rng, mode):
    x = rng.normal(size=(200, 5)) * [1.0, 10.0, 0.1, 1e3, 0.0] + [0.0, 5.0, -3.0, 100.0, 7.0]
    mean, variance = normalization_statistics(x, mode)
    ref_mean, ref_variance = _reference(x, mode)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12)
    np.testing.assert_allclose(variance, ref_variance, rtol=1e-12)


@pytest.mark.parametrize("mode", ["global", "feature"])
def test_affine_rescaling_gives_the_same_normalized_input(rng, mode):
    x = rng.random((100, 6))
    layer = fitted_normalization(x, mode)
    rescaled = fitted_normalization(255.0 * x + 100.0, mode)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x.astype("float32"))),
        keras.ops.convert_to_numpy(rescaled((255.0 * x + 100.0).astype("float32"))),
        atol=1e-4,
    )


def test_feature_mode_standardizes_each_column_and_floors_constant_ones(rng):
    x = np.column_stack([rng.normal(size=500) * 1000.0, rng.normal(size=500), np.full(500, 3.0)])
    z = keras.ops.convert_to_numpy(fitted_normalization(x, "feature")(x.astype("float32")))
    np.testing.assert_allclose(z[:, :2].std(0), 1.0, rtol=1e-3)
    np.testing.assert_allclose(z[:, 2], 0.0, atol=1e-6)


def test_global_mode_keeps_the_geometry(rng):
    """Distances between samples are the raw distances divided by one common scale."""
    x = rng.normal(size=(50, 4)) * [1.0, 100.0, 3.0, 0.5]
    z = keras.ops.convert_to_numpy(fitted_normalization(x, "global")(x.astype("float32")))
    raw = np.linalg.norm(x[:, None] - x[None], axis=-1)
    scaled = np.linalg.norm(z[:, None] - z[None], axis=-1)
    ratio = scaled[raw > 0] / raw[raw > 0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-3)


def test_inverse_layer_undoes_the_normalization(rng):
    x = rng.random((30, 3)) * 50.0
    forward = fitted_normalization(x, "feature")
    inverse = fitted_normalization(x, "feature", invert=True)
    back = keras.ops.convert_to_numpy(inverse(forward(x.astype("float32"))))
    np.testing.assert_allclose(back, x, rtol=1e-4)


def test_statistics_are_saved_weights(rng, tmp_path):
    x = rng.random((30, 3)) * 50.0
    model = keras.Sequential([keras.Input((3,)), fitted_normalization(x, "global")])
    model.save(tmp_path / "norm.keras")
    loaded = keras.models.load_model(tmp_path / "norm.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_bad_mode():
    with pytest.raises(ValueError, match="mode='minmax'"):
        normalization_statistics(np.zeros((3, 2)), "minmax")
