"""DEC and IDEC models: an encoder followed by a `ClusteringLayer` (and, for IDEC, the decoder)."""

import keras

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.layers.student_t import ClusteringLayer
from keras_cluster.models.autoencoder import reconstruction_model

CLUSTERING_OUTPUT = "clustering"
RECONSTRUCTION_OUTPUT = "reconstruction"


@keras_cluster_export("keras_cluster.models.build_dec_model")
def build_dec_model(encoder, n_clusters, alpha=1.0, initial_centroids=None, name="dec"):
    """The DEC model `x -> q`: `encoder` followed by a `ClusteringLayer` named `"clustering"`.

    Args:
        encoder: Keras model `x -> z` (e.g. the encoder from `build_autoencoder`).
        n_clusters: number of clusters.
        alpha: degrees of freedom of the Student's t kernel.
        initial_centroids: optional `(n_clusters, d)` array, e.g. k-means centres on `encoder(x)`.
        name: model name.

    Returns:
        A functional `keras.Model` sharing the encoder's layers.
    """
    clustering = ClusteringLayer(
        n_clusters, alpha=alpha, initial_centroids=initial_centroids, name=CLUSTERING_OUTPUT
    )
    return keras.Model(encoder.inputs[0], clustering(encoder.outputs[0]), name=name)


@keras_cluster_export("keras_cluster.models.build_idec_model")
def build_idec_model(
    autoencoder, encoder, n_clusters, alpha=1.0, initial_centroids=None, name="idec"
):
    """The IDEC training model `x -> {"clustering": q, "reconstruction": x_hat}`.

    The decoder is kept so that the reconstruction loss preserves the local structure of the
    embedding while the KL clustering loss sharpens the clusters. For an autoencoder with an input
    normalization the reconstruction is in normalized units (`reconstruction_model`): train it
    against `normalize(autoencoder, x)`.

    Args:
        autoencoder: model `x -> x_hat` from `build_autoencoder`, sharing layers with `encoder`.
        encoder: model `x -> z`.
        n_clusters: as `build_dec_model`.
        alpha: as `build_dec_model`.
        initial_centroids: as `build_dec_model`.
        name: model name.

    Returns:
        A functional `keras.Model` with two named outputs.

    References:
        Guo, Gao, Liu & Yin, "Improved Deep Embedded Clustering with Local Structure
        Preservation", IJCAI 2017.
    """
    clustering = ClusteringLayer(
        n_clusters, alpha=alpha, initial_centroids=initial_centroids, name=CLUSTERING_OUTPUT
    )
    reconstruction = keras.layers.Identity(name=RECONSTRUCTION_OUTPUT)(
        reconstruction_model(autoencoder).outputs[0]
    )
    outputs = {
        CLUSTERING_OUTPUT: clustering(encoder.outputs[0]),
        RECONSTRUCTION_OUTPUT: reconstruction,
    }
    return keras.Model(autoencoder.inputs[0], outputs, name=name)


def assignment_model(model):
    """The `x -> q` view of a DEC or IDEC model: its only output, or its `"clustering"` output.

    A new functional model sharing the layers (and so the weights) of `model`, and nothing else
    attached to it (such as `DECSelfTraining`'s state); used to serve a DEC or IDEC model and to
    compute Q over a dataset without running the decoder.
    """
    output = (
        model.outputs[0] if len(model.outputs) == 1 else model.get_layer(CLUSTERING_OUTPUT).output
    )
    return keras.Model(model.inputs[0], output, name=model.name)
