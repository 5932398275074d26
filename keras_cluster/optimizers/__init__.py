"""optimizers."""

from keras_cluster.optimizers.gauss_newton import GaussNewton
from keras_cluster.optimizers.levenberg_marquardt import LevenbergMarquardt
from keras_cluster.optimizers.newton import Newton

__all__ = ["GaussNewton", "LevenbergMarquardt", "Newton"]
