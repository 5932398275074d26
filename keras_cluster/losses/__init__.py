"""Clustering losses: pure functions doing the math plus thin `keras.losses.Loss` classes."""

from keras_cluster.losses.dec import DECLoss, dec_loss, target_distribution
from keras_cluster.losses.kmeans import KMeansLoss, kmeans_loss
from keras_cluster.losses.snnl import SoftNearestNeighborLoss, soft_nearest_neighbor_loss

__all__ = [
    "DECLoss",
    "dec_loss",
    "target_distribution",
    "KMeansLoss",
    "kmeans_loss",
    "SoftNearestNeighborLoss",
    "soft_nearest_neighbor_loss",
]
