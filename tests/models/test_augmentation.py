import keras
import numpy as np
import pytest

from keras_cluster.models import augmenter


def _shift():
    return keras.layers.RandomTranslation(0.25, 0.25, fill_mode="constant", seed=1)


def test_augmentation_changes_a_batch_and_keeps_its_shape(rng):
    x = rng.random((8, 64)).astype("float32")
    augmented = keras.ops.convert_to_numpy(augmenter(_shift(), (8, 8, 1), 64)(x))
    assert augmented.shape == x.shape
    assert not np.allclose(augmented, x)


def test_each_call_draws_new_transformations(rng):
    x = rng.random((8, 64)).astype("float32")
    augment = augmenter(_shift(), (8, 8, 1), 64)
    first = keras.ops.convert_to_numpy(augment(x))
    second = keras.ops.convert_to_numpy(augment(x))
    assert not np.allclose(first, second)


def test_no_augmentation_is_the_identity(rng):
    x = rng.random((4, 6)).astype("float32")
    assert augmenter(None, None, 6)(x) is x


@pytest.mark.parametrize(
    "augmentation, image_shape, match",
    [
        ("flip", (8, 8, 1), "augmentation='flip'"),
        (_shift(), None, "image_shape=None"),
        (_shift(), (8, 8), "image_shape=\\(8, 8\\) \\(64 values\\)"),
        (_shift(), (7, 7, 1), "hold the 64 features"),
        (_shift(), "28x28", "image_shape='28x28'"),
    ],
)
def test_bad_augmentation_arguments(augmentation, image_shape, match):
    if image_shape == (8, 8):
        match = "hold the 64 features"
        image_shape = (8, 7, 1)
    with pytest.raises(ValueError, match=match):
        augmenter(augmentation, image_shape, 64)
