"""callbacks."""

from keras_cluster.callbacks.mu_adaptation import MuAdaptation
from keras_cluster.callbacks.temperature_annealing import TemperatureAnnealing

__all__ = ["MuAdaptation", "TemperatureAnnealing"]
