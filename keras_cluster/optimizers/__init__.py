"""optimizers."""

from keras_cluster.optimizers.gauss_newton import GaussNewton
from keras_cluster.optimizers.levenberg_marquardt import LevenbergMarquardt
from keras_cluster.optimizers.newton import Newton
from keras_cluster.optimizers.uncertainty import FitUncertainty, fit_uncertainty

__all__ = ["FitUncertainty", "GaussNewton", "LevenbergMarquardt", "Newton", "fit_uncertainty"]
