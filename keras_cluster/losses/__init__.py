"""Clustering losses: pure functions doing the math plus thin `keras.losses.Loss` classes."""

from keras_cluster.losses.dec import DECLoss, dec_loss, target_distribution

__all__ = ["DECLoss", "dec_loss", "target_distribution"]
