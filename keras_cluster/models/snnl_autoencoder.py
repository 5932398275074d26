"""The SNNL-disentangled autoencoder of Agarap & Azcarraga (2020)."""

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.models.autoencoder import DEFAULT_DIMS, build_autoencoder
from keras_cluster.models.snnl import SoftNearestNeighborModel


@keras_cluster_export("keras_cluster.models.build_snnl_autoencoder")
def build_snnl_autoencoder(
    input_dim,
    dims=DEFAULT_DIMS,
    weight=1.0,
    temperature=1.0,
    distance="cosine",
    learn_temperature=False,
    kernel_regularizer=None,
):
    """Autoencoder `x-dims-x` with Soft Nearest Neighbor Loss on its code, ready to `compile`.

    Formula (z = the code, y = class labels, -1 = unlabelled and left out of SNNL):

    ```
    loss = reconstruction(x, x_hat) + weight * SNNL(y, z, T)
    ```

    Train it with `model.compile(optimizer, "mse")` and
    `model.fit(x, {"target": x, "snnl_labels": y}, callbacks=[TemperatureAnnealing()])`
    (T = 1 / (1 + epoch)^0.55, as the paper), then cluster `encoder.predict(x)` with k-means:
    the classes pulled apart in the code make k-means' job easy. `keras_cluster.estimators.
    SNNLKMeans` does all of it.

    Args:
        input_dim: number of input features.
        dims: encoder widths; the last is the code size (the paper: 500, 500, 2000, d).
        weight: weight of SNNL (> 0 disentangles).
        temperature: initial temperature.
        distance: `"cosine"` (the paper) or `"euclidean"`.
        learn_temperature: learn log T instead of annealing it.
        kernel_regularizer: optional regularizer of every kernel (L2 the Keras way).

    Returns:
        `(model, encoder)`: the `SoftNearestNeighborModel` to train and the encoder `x -> z`
        (sharing its layers).

    Example:

    >>> model, encoder = build_snnl_autoencoder(64, dims=(32, 8))
    >>> model.layer_names
    ['encoder_1']

    References:
        Agarap & Azcarraga, "Improving k-Means Clustering Performance with Disentangled Internal
        Representations", IJCNN 2020.
    """
    autoencoder, encoder = build_autoencoder(
        input_dim, dims=dims, kernel_regularizer=kernel_regularizer
    )
    model = SoftNearestNeighborModel(
        autoencoder,
        encoder.layers[-1].name,
        weight=weight,
        temperature=temperature,
        distance=distance,
        learn_temperature=learn_temperature,
        name="snnl_autoencoder",
    )
    return model, encoder
