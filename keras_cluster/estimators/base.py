"""scikit-learn face shared by the deep clustering estimators (DEC, IDEC, DCN, ...)."""

import numbers
import os
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted, validate_data

from keras_cluster.models.autoencoder import (
    PRETRAIN_METHODS,
    build_autoencoder,
    pretrain_autoencoder,
)


def validate_positive_int(name, value, minimum=1):
    """Raise a ValueError naming `name` unless `value` is an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` should be an integer >= {minimum}. Received: {name}={value!r}")


def validate_optimizer(name, value):
    """Raise a ValueError naming `name` unless `value` is None or resolves to a Keras optimizer."""
    if value is None:
        return
    try:
        keras.optimizers.get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`{name}` should be a Keras optimizer or its name. Received: {name}={value!r}"
        ) from error


def fresh_optimizer(value, default):
    """A new optimizer instance from `value` (identifier, config or instance) or `default()`."""
    if value is None:
        return default()
    template = keras.optimizers.get(value)
    return template.__class__.from_config(template.get_config())


def validate_weights_path(name, value):
    """Raise a ValueError naming `name` unless `value` is None or an existing `.weights.h5` file."""
    if value is None:
        return
    path = pathlib.Path(value) if isinstance(value, (str, os.PathLike)) else None
    if path is None or not str(path).endswith(".weights.h5") or not path.is_file():
        raise ValueError(
            f"`{name}` should be None or the path of an existing `.weights.h5` file "
            f"(`estimator.autoencoder_.save_weights(path)`). Received: {name}={value!r}"
        )


def load_autoencoder_weights(autoencoder, path):
    """Load `path` into `autoencoder`; a file of another architecture raises a ValueError."""
    try:
        autoencoder.load_weights(path)
    except ValueError as error:
        first_line = str(error).strip().splitlines()[0]
        raise ValueError(
            f"`autoencoder_weights` does not fit the autoencoder (input "
            f"{autoencoder.input_shape[1]} features and the estimator's `dims`): {first_line} "
            f"Received: autoencoder_weights={str(path)!r}"
        ) from error


class EpochProgress(keras.callbacks.Callback):
    """Print one line with the logs every `ceil(epochs / lines)` epochs: progress without noise."""

    def __init__(self, stage, lines=10):
        super().__init__()
        self.stage = stage
        self.lines = lines

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self._epochs = self.params.get("epochs") or 1
        self._every = max(1, -(-self._epochs // self.lines))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self._every and epoch + 1 != self._epochs:
            return
        values = " ".join(f"{key} {value:.4g}" for key, value in (logs or {}).items())
        elapsed = time.perf_counter() - self._start
        print(
            f"  {self.stage} epoch {epoch + 1}/{self._epochs}: {values} ({elapsed:.0f}s)",
            flush=True,
        )


class BaseDeepClusterer(ClusterMixin, TransformerMixin, BaseEstimator):
    """Shared scikit-learn API of the deep clustering estimators.

    Subclasses implement `_fit(X)`, which sets `model_` (Keras model `X -> q` or, for hard
    clusterers, `X -> distances`), `encoder_`, `autoencoder_` and `cluster_centers_`; this class
    validates input, seeds, times the fit, and provides `predict`, `predict_proba`, `transform` and
    `fit_predict`. Everything is built inside the active `tf.distribute` strategy's scope.
    """

    _predict_batch_size = 4096

    def _validate_params(self):
        validate_positive_int("n_clusters", self.n_clusters)
        validate_positive_int("batch_size", self.batch_size)
        if self.random_state is not None:
            validate_positive_int("random_state", self.random_state, minimum=0)

    def fit(self, X, y=None):
        """Fit on `X` (array `(n_samples, n_features)`, finite); `y` is ignored."""
        self._validate_params()
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=True)
        n_samples = X.shape[0]
        if self.n_clusters > n_samples:
            raise ValueError(
                "`n_clusters` should be <= the number of samples. "
                f"Received: n_clusters={self.n_clusters} with n_samples={n_samples}"
            )
        X = X.astype(np.float32, copy=False)
        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))
        start = time.perf_counter()
        with tf.distribute.get_strategy().scope():
            self._fit(X)
        self.fit_time_ = time.perf_counter() - start
        return self

    def _fit(self, X):
        raise NotImplementedError

    def _validated(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        return X.astype(np.float32, copy=False)

    def predict_proba(self, X):
        """Soft assignments q of each sample to each cluster, shape `(n_samples, n_clusters)`."""
        X = self._validated(X)
        return np.asarray(self.model_.predict(X, batch_size=self._predict_batch_size, verbose=0))

    def predict(self, X):
        """Hard cluster labels, `argmax_j q_ij`."""
        return self.predict_proba(X).argmax(axis=1)

    def transform(self, X):
        """The embedding `z = encoder(X)`, shape `(n_samples, dims[-1])`."""
        X = self._validated(X)
        return np.asarray(self.encoder_.predict(X, batch_size=self._predict_batch_size, verbose=0))

    def fit_predict(self, X, y=None):
        """Fit on `X` and return `labels_`."""
        return self.fit(X).labels_

    def _validate_pretraining_params(self):
        """Validate the pretraining parameters shared by the autoencoder-based estimators."""
        if self.pretrain not in PRETRAIN_METHODS:
            raise ValueError(
                f"`pretrain` should be one of {PRETRAIN_METHODS}. "
                f"Received: pretrain={self.pretrain!r}"
            )
        validate_positive_int("pretrain_epochs", self.pretrain_epochs, minimum=0)
        validate_positive_int("finetune_epochs", self.finetune_epochs, minimum=0)
        validate_positive_int("kmeans_n_init", self.kmeans_n_init)
        validate_optimizer("optimizer", self.optimizer)
        validate_optimizer("pretrain_optimizer", self.pretrain_optimizer)

    def _pretrain_and_kmeans(self, X, kernel_regularizer=None, weights=None):
        """Build and pretrain `autoencoder_`/`encoder_`, then fit `kmeans_` on the embedding.

        With `weights` (a `.weights.h5` path of an autoencoder of the same shape) the weights are
        loaded instead of pretrained.

        Raises:
            RuntimeError: the reconstruction loss became NaN or inf (training stops at once).
            ValueError: `weights` is missing or does not fit the autoencoder.
        """
        self.autoencoder_, self.encoder_ = build_autoencoder(
            X.shape[1], dims=tuple(self.dims), kernel_regularizer=kernel_regularizer
        )
        if weights is not None:
            load_autoencoder_weights(self.autoencoder_, weights)
            self._log(f"Pretraining skipped: autoencoder weights loaded from {weights}")
        else:
            self._pretrain(X)
        embedding = self.encoder_.predict(X, batch_size=self._predict_batch_size, verbose=0)
        self.kmeans_ = KMeans(
            self.n_clusters, n_init=self.kmeans_n_init, random_state=self.random_state
        ).fit(embedding)
        self._log(f"k-means on the embedding: inertia {self.kmeans_.inertia_:.4g}")

    def _pretrain(self, X):
        self._log(
            f"Pretraining the autoencoder ({self.pretrain}: {self.pretrain_epochs} epochs a layer "
            f"pair, {self.finetune_epochs} end to end) on {X.shape[0]} samples"
        )
        history = pretrain_autoencoder(
            self.autoencoder_,
            X,
            method=self.pretrain,
            layerwise_epochs=self.pretrain_epochs,
            finetune_epochs=self.finetune_epochs,
            batch_size=self.batch_size,
            dropout=self.dropout,
            optimizer=self.pretrain_optimizer,
            callbacks=[keras.callbacks.TerminateOnNaN(), *self._progress("pretraining")],
            verbose=self._keras_verbose,
        )
        losses = history.history.get("loss", [])
        if losses and not np.isfinite(losses[-1]):
            raise RuntimeError(
                f"Pretraining diverged: the reconstruction loss became {losses[-1]} at epoch "
                f"{len(losses)}. Scale X to about [0, 1] (it ranges over [{X.min():.3g}, "
                f"{X.max():.3g}]) or pass a `pretrain_optimizer` with a smaller learning rate."
            )

    @property
    def _keras_verbose(self):
        """Keras's own per-epoch lines only at `verbose >= 2`."""
        return 2 if self.verbose >= 2 else 0

    def _log(self, message):
        if self.verbose:
            print(message, flush=True)

    def _progress(self, stage):
        """Callbacks showing a stage's progress at `verbose=1` (Keras prints its own at 2)."""
        return [EpochProgress(stage)] if self.verbose == 1 else []
