"""Symmetric fully-connected autoencoder and its (stacked denoising) pretraining."""

import keras

DEFAULT_DIMS = (500, 500, 2000, 10)
PRETRAIN_METHODS = ("layerwise", "end_to_end")


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
    name="autoencoder",
):
    """Build the symmetric autoencoder `input_dim-dims[0]-...-dims[-1]-...-dims[0]-input_dim`.

    Every layer uses `activation` except the embedding (`encoder_{n-1}`) and the reconstruction
    (`decoder_0`), which are linear, as in DEC. Layer `decoder_i` mirrors `encoder_i`, so the pair
    (`encoder_i`, `decoder_i`) is one denoising autoencoder of the layer-wise pretraining.

    Args:
        input_dim: number of input features.
        dims: widths of the encoder's layers; the last one is the embedding size.
        activation: activation of the hidden layers.
        kernel_initializer: initializer of every Dense kernel (default VarianceScaling(1/3)).
        kernel_regularizer: optional regularizer of every Dense kernel (L2 the Keras way).
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
    last = len(dims) - 1
    for i, units in enumerate(dims):
        hidden = dense(units, None if i == last else activation, f"encoder_{i}")(hidden)
    embedding = hidden
    widths = (input_dim, *dims)
    for i in reversed(range(len(dims))):
        hidden = dense(widths[i], None if i == 0 else activation, f"decoder_{i}")(hidden)
    autoencoder = keras.Model(inputs, hidden, name=name)
    encoder = keras.Model(inputs, embedding, name="encoder")
    return autoencoder, encoder


def _n_pairs(autoencoder):
    return sum(1 for layer in autoencoder.layers if layer.name.startswith("encoder_"))


def _make_optimizer(optimizer):
    if optimizer is None:
        return keras.optimizers.SGD(learning_rate=1.0, momentum=0.9)
    template = keras.optimizers.get(optimizer)
    return template.__class__.from_config(template.get_config())


def pretrain_autoencoder(
    autoencoder,
    x,
    method="layerwise",
    layerwise_epochs=100,
    finetune_epochs=200,
    batch_size=256,
    dropout=0.2,
    optimizer=None,
    callbacks=None,
    verbose=0,
):
    """Pretrain an autoencoder built by `build_autoencoder`, as in DEC.

    `method="layerwise"`: greedy layer-wise denoising pretraining. Pair i (`encoder_i`,
    `decoder_i`) is trained, with the lower encoders frozen, to reconstruct its input h_i from
    `decoder_i(dropout(encoder_i(dropout(h_i))))`, `dropout` acting as the corruption; then the
    whole autoencoder is fine-tuned end to end without dropout for `finetune_epochs`.
    `method="end_to_end"`: only the end-to-end training.

    Args:
        autoencoder: model from `build_autoencoder` (its layers are trained in place).
        x: training data, array `(n, input_dim)`.
        method: `"layerwise"` or `"end_to_end"`.
        layerwise_epochs: epochs for each layer pair (layer-wise only).
        finetune_epochs: epochs of end-to-end training.
        batch_size: mini-batch size.
        dropout: corruption rate of the denoising pairs, in [0, 1).
        optimizer: optimizer identifier or instance used as a template (a fresh copy per stage);
            default `SGD(learning_rate=1.0, momentum=0.9)` on the per-element mean squared error.
        callbacks: Keras callbacks for the end-to-end stage.
        verbose: Keras verbosity.

    Returns:
        The `History` of the end-to-end stage.

    References:
        Vincent et al., "Stacked Denoising Autoencoders", JMLR 2010;
        Xie et al., ICML 2016, sec. 3.2.
    """
    if method not in PRETRAIN_METHODS:
        raise ValueError(
            f"`method` should be one of {PRETRAIN_METHODS}. Received: method={method!r}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` should be in [0, 1). Received: dropout={dropout!r}")
    for arg, value in (
        ("layerwise_epochs", layerwise_epochs),
        ("finetune_epochs", finetune_epochs),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"`{arg}` should be an integer >= 0. Received: {arg}={value!r}")
    if method == "layerwise":
        features = x
        for i in range(_n_pairs(autoencoder)):
            encoder_layer = autoencoder.get_layer(f"encoder_{i}")
            decoder_layer = autoencoder.get_layer(f"decoder_{i}")
            pair_input = keras.Input(shape=(features.shape[1],))
            hidden = keras.layers.Dropout(dropout)(pair_input)
            hidden = keras.layers.Dropout(dropout)(encoder_layer(hidden))
            pair = keras.Model(pair_input, decoder_layer(hidden), name=f"denoising_pair_{i}")
            pair.compile(optimizer=_make_optimizer(optimizer), loss="mse")
            pair.fit(
                features, features, batch_size=batch_size, epochs=layerwise_epochs, verbose=verbose
            )
            features = keras.ops.convert_to_numpy(encoder_layer(features))
    autoencoder.compile(optimizer=_make_optimizer(optimizer), loss="mse")
    return autoencoder.fit(
        x, x, batch_size=batch_size, epochs=finetune_epochs, callbacks=callbacks, verbose=verbose
    )
