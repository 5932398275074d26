"""Clustering scores against labels: NumPy functions and Keras metrics (ACC, NMI, ARI).

The in-graph Hungarian algorithm behind the Keras ACC metric is an implementation detail in
`keras_cluster.metrics.linear_assignment`, not part of the metrics' API.
"""

from keras_cluster.metrics.clustering import (
    AdjustedRandIndex,
    ClusteringAccuracy,
    NormalizedMutualInformation,
    adjusted_rand_index,
    clustering_accuracy,
    normalized_mutual_info,
)

__all__ = [
    "AdjustedRandIndex",
    "ClusteringAccuracy",
    "NormalizedMutualInformation",
    "adjusted_rand_index",
    "clustering_accuracy",
    "normalized_mutual_info",
]
