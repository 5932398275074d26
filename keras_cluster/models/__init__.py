"""Keras model builders: the autoencoder and its pretraining, DEC and IDEC."""

from keras_cluster.models.autoencoder import build_autoencoder, pretrain_autoencoder
from keras_cluster.models.dcn import DeepClusteringNetwork
from keras_cluster.models.dec import build_dec_model, build_idec_model
from keras_cluster.models.snnl import SoftNearestNeighborModel
from keras_cluster.models.snnl_autoencoder import build_snnl_autoencoder

__all__ = [
    "build_autoencoder",
    "DeepClusteringNetwork",
    "build_dec_model",
    "build_idec_model",
    "pretrain_autoencoder",
    "SoftNearestNeighborModel",
    "build_snnl_autoencoder",
]
