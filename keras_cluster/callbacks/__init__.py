"""Keras callbacks."""

from keras_cluster.callbacks.batch_position import BatchPosition
from keras_cluster.callbacks.dec_self_training import DECSelfTraining
from keras_cluster.callbacks.mu_adaptation import MuAdaptation
from keras_cluster.callbacks.temperature_annealing import TemperatureAnnealing

__all__ = ["BatchPosition", "DECSelfTraining", "MuAdaptation", "TemperatureAnnealing"]
