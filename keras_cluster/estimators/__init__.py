"""scikit-learn style estimators built on the Keras models of `keras_cluster.models`."""

from keras_cluster.estimators.base import BaseDeepClusterer
from keras_cluster.estimators.dcn import DCN
from keras_cluster.estimators.dec import DEC, IDEC
from keras_cluster.estimators.n2d import N2D
from keras_cluster.estimators.snnl_kmeans import SNNLKMeans

__all__ = ["BaseDeepClusterer", "DCN", "DEC", "IDEC", "N2D", "SNNLKMeans"]
