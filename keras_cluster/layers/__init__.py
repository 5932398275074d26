"""Keras layers."""

from keras_cluster.layers.centroid_distances import CentroidDistances
from keras_cluster.layers.student_t import ClusteringLayer, soft_assignment

__all__ = ["CentroidDistances", "ClusteringLayer", "soft_assignment"]
