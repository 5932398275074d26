"""scikit-learn style estimators built on the Keras models of `keras_cluster.models`."""

from keras_cluster.estimators.base import BaseDeepClusterer
from keras_cluster.estimators.dec import DEC, IDEC

__all__ = ["BaseDeepClusterer", "DEC", "IDEC"]
