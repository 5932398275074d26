"""The scikit-learn face shared by hard (nearest-centroid) deep clusterers: DCN, SNNLKMeans."""

import numpy as np
from sklearn.utils.metaestimators import available_if


class NearestCentroidMixin:
    """`predict` = nearest centroid from `model_` (`X -> squared distances`); no `predict_proba`.

    Mix in before `BaseDeepClusterer`, whose `predict` takes the argmax of soft assignments.
    """

    def distances(self, X):
        """Squared distance of each sample's embedding to each centroid, `(n, n_clusters)`."""
        X = self._validated(X)
        return np.asarray(self.model_.predict(X, batch_size=self._predict_batch_size, verbose=0))

    @available_if(lambda self: False)
    def predict_proba(self, X):
        """Not available: a hard clusterer (use `predict` or `distances`)."""

    def predict(self, X):
        """Index of the nearest centroid of each sample's embedding."""
        return self.distances(X).argmin(axis=1)
