"""Symmetric fully-connected autoencoder and its (stacked denoising) pretraining."""

import keras
import numpy as np
import tensorflow as tf

from keras_cluster import defaults
from keras_cluster.models.augmentation import augmenter
from keras_cluster.models.normalization import layer_statistics, normalization_layer
from keras_cluster.models.prebuilt_optimizer import compile_prebuilt

DEFAULT_DIMS = defaults.DIMS
PRETRAIN_METHODS = ("end_to_end", "layerwise")
INPUT_NORMALIZATION = "input_normalization"
OUTPUT_DENORMALIZATION = "output_denormalization"
RECONSTRUCTION_LAYER = "decoder_0"


def default_initializer():
    """VarianceScaling(1/3, fan_in, uniform): the Keras DEC/IDEC reproductions' init."""
    return keras.initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
    )


def _validate_dims(input_dim, dims):
    if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
        raise ValueError(
            f"`input_dim` should be a positive integer. Received: input_dim={input_dim!r}"
        )
    dims = tuple(dims)
    if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise ValueError(
            f"`dims` should be a non-empty sequence of positive integers. Received: dims={dims!r}"
        )
    return dims


def build_autoencoder(
    input_dim,
    dims=DEFAULT_DIMS,
    activation="relu",
    kernel_initializer=None,
    kernel_regularizer=None,
    normalization=None,
    name="autoencoder",
):
    """Build the symmetric autoencoder `input_dim-dims[0]-...-dims[-1]-...-dims[0]-input_dim`.

    Every layer uses `activation` except the embedding (`encoder_{n-1}`) and the reconstruction
    (`decoder_0`), which are linear, as in DEC. Layer `decoder_i` mirrors `encoder_i`, so the pair
    (`encoder_i`, `decoder_i`) is one denoising autoencoder of the layer-wise pretraining.

    With `normalization` (an adapted `keras.layers.Normalization`, e.g. from
    `keras_cluster.models.fitted_normalization`), its statistics are copied into a first layer
    `"input_normalization"` and into an inverse last layer `"output_denormalization"`: the
    autoencoder maps raw rows to raw rows, the layers between see normalized values, and
    `reconstruction_model(autoencoder)` is the `x -> normalized x_hat` view that training uses.

    Args:
        input_dim: number of input features.
        dims: widths of the encoder's layers; the last one is the embedding size.
        activation: activation of the hidden layers.
        kernel_initializer: initializer of every Dense kernel (default VarianceScaling(1/3)).
        kernel_regularizer: optional regularizer of every Dense kernel (L2 the Keras way).
        normalization: optional built `keras.layers.Normalization` for `input_dim` features.
        name: name of the autoencoder model.

    Returns:
        `(autoencoder, encoder)`: functional models `x -> x_hat` and `x -> z` sharing layers.

    Example:

    >>> autoencoder, encoder = build_autoencoder(64, dims=(32, 8))
    >>> [layer.name for layer in autoencoder.layers[1:]]
    ['encoder_0', 'encoder_1', 'decoder_1', 'decoder_0']
    """
    dims = _validate_dims(input_dim, dims)
    if kernel_initializer is None:
        kernel_initializer = default_initializer()

    def dense(units, layer_activation, layer_name):
        return keras.layers.Dense(
            units,
            activation=layer_activation,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer,
            name=layer_name,
        )

    inputs = keras.Input(shape=(input_dim,), name="input")
    hidden = inputs
    if normalization is not None:
        mean, variance = layer_statistics(normalization)
        if mean.shape[0] != input_dim:
            raise ValueError(
                f"`normalization` should hold statistics of {input_dim} features. "
                f"Received: normalization with {mean.shape[0]} features"
            )
        hidden = normalization_layer(mean, variance, name=INPUT_NORMALIZATION)(hidden)
    last = len(dims) - 1
    for i, units in enumerate(dims):
        hidden = dense(units, None if i == last else activation, f"encoder_{i}")(hidden)
    embedding = hidden
    widths = (input_dim, *dims)
    for i in reversed(range(len(dims))):
        hidden = dense(widths[i], None if i == 0 else activation, f"decoder_{i}")(hidden)
    if normalization is not None:
        hidden = normalization_layer(mean, variance, invert=True, name=OUTPUT_DENORMALIZATION)(
            hidden
        )
    autoencoder = keras.Model(inputs, hidden, name=name)
    encoder = keras.Model(inputs, embedding, name="encoder")
    return autoencoder, encoder


def reconstruction_model(autoencoder):
    """The `x -> x_hat` view trained on: in normalized units when the autoencoder normalizes.

    The view shares the autoencoder's layers; its targets are `normalize(autoencoder, x)`.
    """
    if not _has_layer(autoencoder, OUTPUT_DENORMALIZATION):
        return autoencoder
    return keras.Model(
        autoencoder.inputs[0], autoencoder.get_layer(RECONSTRUCTION_LAYER).output, name="view"
    )


def normalize(autoencoder, x):
    """`x` in the units the autoencoder's layers see (unchanged without a normalization)."""
    if not _has_layer(autoencoder, INPUT_NORMALIZATION):
        return x
    return autoencoder.get_layer(INPUT_NORMALIZATION)(x)


def _has_layer(model, name):
    return any(layer.name == name for layer in model.layers)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` should be an integer >= {minimum}. Received: {name}={value!r}")


def _n_pairs(autoencoder):
    return sum(1 for layer in autoencoder.layers if layer.name.startswith("encoder_"))


def fresh_optimizer(optimizer, default):
    """A new optimizer from `optimizer` (identifier, config or instance as a template).

    `default` (a callable) makes it when `optimizer` is None. A fresh instance per training stage
    keeps one stage's slots and iteration count out of the next.
    """
    if optimizer is None:
        return default()
    template = keras.optimizers.get(optimizer)
    return template.__class__.from_config(template.get_config())


def default_pretrain_optimizer():
    """The pretraining optimizer when none is given: Adam(1e-3) on normalized inputs."""
    return keras.optimizers.Adam(learning_rate=1e-3)


def reconstruction_dataset(
    autoencoder, x, batch_size, augmentation=None, image_shape=None, shuffle=True, seed=None
):
    """An endless `tf.data.Dataset` of `(x_batch, target)` batches for `reconstruction_model`.

    Each batch is drawn (shuffled each pass), augmented when `augmentation` is given (a Keras
    layer or model acting on images of `image_shape`, in training mode), and paired with its own
    normalized value as the target: the autoencoder reconstructs what it was given.
    """
    augment = augmenter(augmentation, image_shape, x.shape[1])
    n = x.shape[0]
    data = tf.constant(x)
    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)

    def batch(index):
        x_batch = augment(tf.gather(data, index))
        return x_batch, normalize(autoencoder, x_batch)

    return indices.repeat().batch(batch_size).map(batch).prefetch(2)


def pretrain_autoencoder(
    autoencoder,
    x,
    method=defaults.PRETRAIN,
    layerwise_epochs=defaults.LAYERWISE_EPOCHS,
    finetune_epochs=defaults.FINETUNE_EPOCHS,
    batch_size=defaults.BATCH_SIZE,
    dropout=defaults.DROPOUT,
    optimizer=None,
    callbacks=None,
    verbose=0,
    augmentation=None,
    image_shape=None,
    seed=None,
):
    """Pretrain an autoencoder built by `build_autoencoder`, as in DEC.

    `method="layerwise"`: greedy layer-wise denoising pretraining. Pair i (`encoder_i`,
    `decoder_i`) is trained, with the lower encoders frozen, to reconstruct its input h_i from
    `decoder_i(dropout(encoder_i(dropout(h_i))))`, `dropout` acting as the corruption; then the
    whole autoencoder is fine-tuned end to end without dropout for `finetune_epochs`.
    `method="end_to_end"` (the default): only the end-to-end training.

    The loss is the per-element mean squared error in the units the layers see (normalized, when
    the autoencoder carries a normalization), whatever the scale of `x`.

    Args:
        autoencoder: model from `build_autoencoder` (its layers are trained in place).
        x: training data, array `(n, input_dim)`.
        method: `"layerwise"` or `"end_to_end"`.
        layerwise_epochs: epochs for each layer pair (layer-wise only).
        finetune_epochs: epochs of end-to-end training, or `"auto"`: about 1,200 optimizer steps
            and at least 50 epochs (`keras_cluster.defaults.pretrain_epochs_for`).
        batch_size: mini-batch size.
        dropout: corruption rate of the denoising pairs, in [0, 1).
        optimizer: optimizer identifier or instance used as a template (a fresh copy per stage);
            default `Adam(learning_rate=1e-3)`.
        callbacks: Keras callbacks for the end-to-end stage.
        verbose: Keras verbosity.
        augmentation: optional Keras layer or model applied (in training mode) to every
            end-to-end batch reshaped to `image_shape`, e.g. random shifts and rotations (DEC-DA).
        image_shape: shape of one sample as an image, e.g. `(28, 28, 1)`; with `augmentation`.
        seed: seed of the batch shuffling.

    Returns:
        The `History` of the end-to-end stage.

    References:
        Vincent et al., "Stacked Denoising Autoencoders", JMLR 2010;
        Xie et al., ICML 2016, sec. 3.2;
        Guo et al., "Deep Embedded Clustering with Data Augmentation", ACML 2018.
    """
    if method not in PRETRAIN_METHODS:
        raise ValueError(
            f"`method` should be one of {PRETRAIN_METHODS}. Received: method={method!r}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` should be in [0, 1). Received: dropout={dropout!r}")
    x = np.asarray(x, dtype="float32")
    _check_count("batch_size", batch_size, minimum=1)
    finetune_epochs = defaults.pretrain_epochs_for(finetune_epochs, x.shape[0], batch_size)
    _check_count("layerwise_epochs", layerwise_epochs, minimum=0)
    _check_count("finetune_epochs", finetune_epochs, minimum=0)
    if method == "layerwise":
        features = keras.ops.convert_to_numpy(normalize(autoencoder, x))
        for i in range(_n_pairs(autoencoder)):
            encoder_layer = autoencoder.get_layer(f"encoder_{i}")
            decoder_layer = autoencoder.get_layer(f"decoder_{i}")
            pair_input = keras.Input(shape=(features.shape[1],))
            hidden = keras.layers.Dropout(dropout)(pair_input)
            hidden = keras.layers.Dropout(dropout)(encoder_layer(hidden))
            pair = keras.Model(pair_input, decoder_layer(hidden), name=f"denoising_pair_{i}")
            compile_prebuilt(
                pair, optimizer=fresh_optimizer(optimizer, default_pretrain_optimizer), loss="mse"
            )
            pair.fit(
                features, features, batch_size=batch_size, epochs=layerwise_epochs, verbose=verbose
            )
            features = keras.ops.convert_to_numpy(encoder_layer(features))
    view = reconstruction_model(autoencoder)
    compile_prebuilt(
        view, optimizer=fresh_optimizer(optimizer, default_pretrain_optimizer), loss="mse"
    )
    return view.fit(
        reconstruction_dataset(
            autoencoder, x, batch_size, augmentation, image_shape, shuffle=True, seed=seed
        ),
        steps_per_epoch=-(-x.shape[0] // batch_size),
        epochs=finetune_epochs,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself
        verbose=verbose,
    )
