"""Keras models and their builders.

- The autoencoder: `build_autoencoder` (returns `(autoencoder, encoder)`), its input
  normalization (`fitted_normalization`, `normalization_statistics`, `normalize`), its training
  view `reconstruction_model`, `pretrain_autoencoder`, and batch `augmenter`s.
- Clustering models: `build_dec_model`, `build_idec_model`, `DeepClusteringNetwork` (DCN).
- Soft nearest neighbours: `SoftNearestNeighborModel` (the loss on any layers of a model) and
  `build_snnl_autoencoder`.
"""

from keras_cluster.models.augmentation import augmenter
from keras_cluster.models.autoencoder import (
    build_autoencoder,
    normalize,
    pretrain_autoencoder,
    reconstruction_model,
)
from keras_cluster.models.dcn import DeepClusteringNetwork
from keras_cluster.models.dec import build_dec_model, build_idec_model
from keras_cluster.models.normalization import fitted_normalization, normalization_statistics
from keras_cluster.models.snnl import SoftNearestNeighborModel
from keras_cluster.models.snnl_autoencoder import build_snnl_autoencoder

__all__ = [
    "augmenter",
    "build_autoencoder",
    "build_dec_model",
    "build_idec_model",
    "build_snnl_autoencoder",
    "DeepClusteringNetwork",
    "fitted_normalization",
    "normalization_statistics",
    "normalize",
    "pretrain_autoencoder",
    "reconstruction_model",
    "SoftNearestNeighborModel",
]
