"""Keras callbacks."""

from keras_cluster.callbacks.dec_self_training import DECSelfTraining
from keras_cluster.callbacks.mu_adaptation import MuAdaptation
from keras_cluster.callbacks.temperature_annealing import TemperatureAnnealing

__all__ = ["DECSelfTraining", "MuAdaptation", "TemperatureAnnealing"]
