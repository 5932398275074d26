"""Data augmentation of flat feature batches seen as images (DEC-DA), for `tf.data` pipelines."""

import math

import keras
import tensorflow as tf

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import POSITIVE_INT, InstanceOf, SequenceOf, validate

AUGMENTATION = InstanceOf(
    keras.layers.Layer,
    description="a Keras layer or model, such as keras.Sequential(["
    "keras.layers.RandomTranslation(0.1, 0.1), keras.layers.RandomRotation(10 / 360)])",
)
IMAGE_SHAPE = SequenceOf(POSITIVE_INT, min_length=2)


def validate_augmentation(augmentation, image_shape, n_features=None):
    """Raise a ValueError unless `augmentation` / `image_shape` describe a usable augmentation.

    Args:
        augmentation: None, or a Keras layer or model (e.g. a `keras.Sequential` of
            `RandomTranslation` and `RandomRotation`).
        image_shape: the shape of one sample as an image, e.g. `(28, 28, 1)`; needed with
            `augmentation`, and its size must equal `n_features` when that is given.
        n_features: the number of features of the flat samples, or None to skip that check.
    """
    validate("augmentation", augmentation, None, AUGMENTATION)
    validate("image_shape", image_shape, None, IMAGE_SHAPE)
    if augmentation is None:
        return
    if image_shape is None:
        raise ValueError(
            "`image_shape` should be given with `augmentation`: the shape of one sample as an "
            "image, e.g. (28, 28, 1). Received: image_shape=None"
        )
    shape = tuple(int(d) for d in image_shape)
    if n_features is not None and math.prod(shape) != n_features:
        raise ValueError(
            f"`image_shape` should hold the {n_features} features of a sample. "
            f"Received: image_shape={shape!r} ({math.prod(shape)} values)"
        )


@keras_cluster_export("keras_cluster.models.augmenter")
def augmenter(augmentation, image_shape, n_features):
    """A function `x_batch -> augmented x_batch` on flat batches `(batch, n_features)`.

    Each batch is reshaped to `(batch, *image_shape)`, passed through `augmentation` in training
    mode (so the random layers draw new transformations for every batch), and flattened back.
    Without `augmentation` it is the identity.

    Example:

    >>> import numpy as np
    >>> shift = keras.layers.RandomTranslation(0.5, 0.5, fill_mode="constant", seed=0)
    >>> augment = augmenter(shift, (4, 4, 1), 16)
    >>> tuple(augment(np.ones((2, 16), "float32")).shape)
    (2, 16)
    """
    validate_augmentation(augmentation, image_shape, n_features)
    if augmentation is None:
        return lambda x_batch: x_batch
    shape = tuple(int(d) for d in image_shape)

    def augment(x_batch):
        x_batch = tf.convert_to_tensor(x_batch)
        images = tf.reshape(x_batch, (-1, *shape))
        augmented = augmentation(images, training=True)
        return tf.reshape(tf.cast(augmented, x_batch.dtype), (-1, n_features))

    return augment
