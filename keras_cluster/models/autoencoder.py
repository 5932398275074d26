"""Symmetric fully-connected autoencoder and its (stacked denoising) pretraining."""

import keras
import tensorflow as tf

from keras_cluster import defaults
from keras_cluster.api_export import keras_cluster_export
from keras_cluster.callbacks.batch_position import batch_start, resumable_fit_callbacks
from keras_cluster.distribute.multi_worker import adapt_for_multi_worker
from keras_cluster.models.augmentation import augmenter
from keras_cluster.models.normalization import layer_statistics, normalization_layer
from keras_cluster.models.prebuilt_optimizer import compile_prebuilt
from keras_cluster.row_source import RowSource, is_stream
from keras_cluster.validation import (
    NON_NEGATIVE_INT,
    OPTIMIZER,
    POSITIVE_INT,
    Interval,
    Options,
    SequenceOf,
    check_array,
    validate,
)

DEFAULT_DIMS = defaults.DIMS
PRETRAIN_METHODS = ("end_to_end", "layerwise")
INPUT_NORMALIZATION = "input_normalization"
OUTPUT_DENORMALIZATION = "output_denormalization"
RECONSTRUCTION_LAYER = "decoder_0"
# The corruption rate of the denoising pairs.
DROPOUT_RATE = Interval("real", 0, 1, closed="left")


def default_initializer():
    """VarianceScaling(1/3, fan_in, uniform): the Keras DEC/IDEC reproductions' init."""
    return keras.initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
    )


@keras_cluster_export("keras_cluster.models.build_autoencoder")
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
    input_dim = int(validate("input_dim", input_dim, POSITIVE_INT))
    dims = tuple(int(d) for d in validate("dims", dims, SequenceOf(POSITIVE_INT)))
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


@keras_cluster_export("keras_cluster.models.reconstruction_model")
def reconstruction_model(autoencoder):
    """The `x -> x_hat` view trained on: in normalized units when the autoencoder normalizes.

    The view shares the autoencoder's layers; its targets are `normalize(autoencoder, x)`.
    """
    if not _has_layer(autoencoder, OUTPUT_DENORMALIZATION):
        return autoencoder
    return keras.Model(
        autoencoder.inputs[0], autoencoder.get_layer(RECONSTRUCTION_LAYER).output, name="view"
    )


@keras_cluster_export("keras_cluster.models.normalize")
def normalize(autoencoder, x):
    """`x` in the units the autoencoder's layers see (unchanged without a normalization)."""
    if not _has_layer(autoencoder, INPUT_NORMALIZATION):
        return x
    return autoencoder.get_layer(INPUT_NORMALIZATION)(x)


def _has_layer(model, name):
    return any(layer.name == name for layer in model.layers)


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


def corrupter(autoencoder, rate, seed=None):
    """A function `(x_batch, batch_number) -> corrupted x_batch`: dropout in normalized units.

    Each entry is kept with probability `1 - rate`; a dropped entry becomes its feature's mean
    (the autoencoder's input normalization centres on it; 0 without a normalization) and a kept
    one moves away from that mean by `1 / (1 - rate)`:

    ```
    x_c = m + mask * (x - m) / (1 - rate),   mask_ij ~ Bernoulli(1 - rate)
    ```

    In the units the layers see this is `keras.layers.Dropout(rate)` of the normalized row, so
    any affine rescaling of X corrupts the same way. The mask is drawn statelessly from `seed`
    and the batch's number in the training stream (`reconstruction_dataset`'s `start` plus the
    batches drawn), so every batch has its own mask, each pass over X new ones, and a resumed
    fit draws the masks the uninterrupted one would. `rate=0` gives the identity.

    Example:

    >>> import numpy as np
    >>> autoencoder, _ = build_autoencoder(4, dims=(3, 2))
    >>> corrupt = corrupter(autoencoder, 0.5, seed=0)
    >>> x_c = corrupt(np.full((1000, 4), 3.0, "float32"), 0).numpy()
    >>> sorted(np.unique(x_c).tolist()), round(float((x_c == 0).mean()), 1)
    ([0.0, 6.0], 0.5)
    """
    validate("rate", rate, DROPOUT_RATE)
    if rate == 0:
        return lambda x_batch, batch_number: x_batch
    center = 0.0
    if _has_layer(autoencoder, INPUT_NORMALIZATION):
        mean, _ = layer_statistics(autoencoder.get_layer(INPUT_NORMALIZATION))
        center = tf.constant(mean, tf.float32)
    if seed is None:
        seed = int(tf.random.uniform((), maxval=2**31 - 1, dtype=tf.int64))
    scale = 1.0 / (1.0 - rate)

    def corrupt(x_batch, batch_number):
        x_batch = tf.convert_to_tensor(x_batch, tf.float32)
        key = tf.stack([tf.constant(seed, tf.int64), tf.cast(batch_number, tf.int64)])
        kept = tf.random.stateless_uniform(tf.shape(x_batch), seed=key) >= rate
        return center + tf.where(kept, (x_batch - center) * scale, 0.0)

    return corrupt


def reconstruction_dataset(
    autoencoder,
    x,
    batch_size,
    augmentation=None,
    image_shape=None,
    shuffle=True,
    seed=None,
    start=None,
    corruption=0.0,
):
    """An endless `tf.data.Dataset` of `(x_batch, target)` batches for `reconstruction_model`.

    Each batch is drawn from `x` (an array, a `tf.data.Dataset` or `keras.utils.PyDataset` of
    batches, or a `keras_cluster.row_source.RowSource`) batch by batch, never as a graph
    constant: an array in a fresh permutation each pass (`shuffle`, from `seed`), a stream in its
    own order. The batch is augmented when `augmentation` is given (a Keras layer or model acting
    on images of `image_shape`, in training mode), then corrupted when `corruption > 0` (dropout
    in normalized units, see `corrupter`), and paired with its own normalized value as the
    target: the autoencoder reconstructs what it was given. Batches are numbered from `start` (a
    scalar variable, see `keras_cluster.callbacks.BatchPosition`; default 0).
    """
    source = x if isinstance(x, RowSource) else RowSource(x)
    augment = augmenter(augmentation, image_shape, source.n_features)
    corrupt = corrupter(autoencoder, corruption, seed)
    if start is None:
        start = tf.constant(0, tf.int64)

    def batch(drawn, rows_and_positions):
        rows, _ = rows_and_positions  # positions: the rows' indices in X, not the batch's number
        x_batch = corrupt(augment(rows), tf.cast(start, tf.int64) + drawn)
        return x_batch, normalize(autoencoder, x_batch)

    batches = source.training_batches(batch_size, start, seed=seed, shuffle=shuffle)
    return batches.enumerate().map(batch)


def _steps_per_pass(source, batch_size):
    return source.n_batches if source.streamed else -(-source.n_rows // batch_size)


@keras_cluster_export("keras_cluster.models.pretrain_autoencoder")
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
    backup_dir=None,
    corruption=defaults.PRETRAIN_CORRUPTION,
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
        x: training data: array `(n, input_dim)`, a `tf.data.Dataset` or
            `keras.utils.PyDataset` of batches of rows (read in its order, the same each pass),
            or a `keras_cluster.row_source.RowSource`. Memory is bounded by the batch.
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
        seed: seed of the batch shuffling (and of the corruption's masks).
        corruption: dropout rate of the end-to-end batches, in [0, 1): each entry is replaced by
            its feature's mean with this probability (in normalized units, `corrupter`), and the
            batch reconstructs its corrupted rows. Default 0 (none);
            `keras_cluster.defaults.PRETRAIN_CORRUPTION` has the measurements.
        backup_dir: optional folder where each stage (`layerwise_<i>`, `pretraining`) keeps a
            `keras.callbacks.BackupAndRestore` backup (weights, optimizer state, epoch); a call
            killed and started again with the same arguments resumes where the backup stands and
            trains as the uninterrupted call would. The backups are kept when the call returns
            (a second call finds every stage done); remove the folder when done with it.

    Returns:
        The `History` of the end-to-end stage.

    References:
        Vincent et al., "Stacked Denoising Autoencoders", JMLR 2010;
        Xie et al., ICML 2016, sec. 3.2;
        Guo et al., "Deep Embedded Clustering with Data Augmentation", ACML 2018.
    """
    validate("method", method, Options(*PRETRAIN_METHODS))
    validate("dropout", dropout, DROPOUT_RATE)
    validate("corruption", corruption, DROPOUT_RATE)
    validate("batch_size", batch_size, POSITIVE_INT)
    validate("layerwise_epochs", layerwise_epochs, NON_NEGATIVE_INT)
    validate("finetune_epochs", finetune_epochs, Options("auto"), NON_NEGATIVE_INT)
    validate("optimizer", optimizer, None, OPTIMIZER)
    if isinstance(x, RowSource):
        source = x
    elif is_stream(x):
        source = RowSource(x)
    else:
        source = RowSource(check_array("x", x, dtype="float32"))
    if source.n_features != autoencoder.input_shape[-1]:
        raise ValueError(
            f"`x` should have the autoencoder's {autoencoder.input_shape[-1]} features. "
            f"Received: x with shape {(source.n_rows, source.n_features)}"
        )
    finetune_epochs = defaults.pretrain_epochs_for(finetune_epochs, source.n_rows, batch_size)
    steps = _steps_per_pass(source, batch_size)
    start = batch_start()
    if method == "layerwise":
        lower = []
        for i in range(_n_pairs(autoencoder)):
            encoder_layer = autoencoder.get_layer(f"encoder_{i}")
            decoder_layer = autoencoder.get_layer(f"decoder_{i}")
            pair_input = keras.Input(shape=(decoder_layer.units,))
            hidden = keras.layers.Dropout(dropout)(pair_input)
            hidden = keras.layers.Dropout(dropout)(encoder_layer(hidden))
            pair = keras.Model(pair_input, decoder_layer(hidden), name=f"denoising_pair_{i}")
            compile_prebuilt(
                pair, optimizer=fresh_optimizer(optimizer, default_pretrain_optimizer), loss="mse"
            )
            adapt_for_multi_worker(pair)

            def features(rows, positions, layers=tuple(lower)):
                hidden = normalize(autoencoder, rows)
                for layer in layers:
                    hidden = layer(hidden)
                return hidden, hidden

            pair.fit(
                source.training_batches(batch_size, start, seed=seed).map(features),
                steps_per_epoch=steps,
                epochs=layerwise_epochs,
                callbacks=resumable_fit_callbacks(backup_dir, f"layerwise_{i}", start),
                shuffle=False,
                verbose=verbose,
            )
            lower.append(encoder_layer)
    view = reconstruction_model(autoencoder)
    compile_prebuilt(
        view, optimizer=fresh_optimizer(optimizer, default_pretrain_optimizer), loss="mse"
    )
    adapt_for_multi_worker(view)
    return view.fit(
        reconstruction_dataset(
            autoencoder,
            source,
            batch_size,
            augmentation,
            image_shape,
            seed=seed,
            start=start,
            corruption=corruption,
        ),
        steps_per_epoch=steps,
        epochs=finetune_epochs,
        callbacks=[*(callbacks or []), *resumable_fit_callbacks(backup_dir, "pretraining", start)],
        shuffle=False,  # the dataset shuffles itself
        verbose=verbose,
    )
