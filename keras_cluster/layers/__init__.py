"""Keras layers."""

from keras_cluster.layers.clustering import ClusteringLayer, soft_assignment

__all__ = ["ClusteringLayer", "soft_assignment"]
