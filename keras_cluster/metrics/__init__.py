"""Clustering scores against labels: NumPy functions and Keras metrics (ACC, NMI, ARI)."""

from keras_cluster.metrics.clustering import (
    AdjustedRandIndex,
    ClusteringAccuracy,
    NormalizedMutualInformation,
    adjusted_rand_index,
    clustering_accuracy,
    normalized_mutual_info,
)
from keras_cluster.metrics.linear_assignment import linear_sum_assignment

__all__ = [
    "AdjustedRandIndex",
    "ClusteringAccuracy",
    "NormalizedMutualInformation",
    "adjusted_rand_index",
    "clustering_accuracy",
    "linear_sum_assignment",
    "normalized_mutual_info",
]
