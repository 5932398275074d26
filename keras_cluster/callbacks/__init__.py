"""callbacks."""

from keras_cluster.callbacks.temperature_annealing import TemperatureAnnealing

__all__ = ["TemperatureAnnealing"]
