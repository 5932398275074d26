"""scikit-learn face shared by the deep clustering estimators (DEC, IDEC, DCN, ...)."""

import pathlib
import time

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted, validate_data

from keras_cluster import defaults
from keras_cluster.api_export import keras_cluster_export
from keras_cluster.estimators.backup import (
    BACKUP_DIR,
    remove_backup,
    restore_initialization,
    save_initialization,
)
from keras_cluster.models.augmentation import AUGMENTATION, IMAGE_SHAPE, validate_augmentation
from keras_cluster.models.autoencoder import (
    DROPOUT_RATE,
    PRETRAIN_METHODS,
    build_autoencoder,
    default_pretrain_optimizer,
    fresh_optimizer,
    pretrain_autoencoder,
)
from keras_cluster.models.normalization import (
    NORMALIZATIONS,
    normalization_layer,
    statistics_from_moments,
)
from keras_cluster.row_source import RowSource, is_stream
from keras_cluster.validation import (
    NON_NEGATIVE_INT,
    OPTIMIZER,
    POSITIVE_INT,
    InstanceOf,
    Options,
    Satisfies,
    SequenceOf,
    check_array,
    describe_value,
    validate_params,
)


def _is_weights_file(value):
    path = pathlib.Path(value)
    return str(path).endswith(".weights.h5") and path.is_file()


WEIGHTS_FILE = Satisfies(
    _is_weights_file,
    "the path of an existing `.weights.h5` file (`estimator.autoencoder_.save_weights(path)`)",
)

CALLBACKS = SequenceOf(
    InstanceOf(keras.callbacks.Callback, description="a Keras callback"),
    min_length=0,
    description="Keras callbacks",
)

# The parameters of the autoencoder pretraining shared by DEC, IDEC, DCN and N2D.
PRETRAINING_CONSTRAINTS = {
    "dims": [SequenceOf(POSITIVE_INT)],
    "normalization": [Options(*NORMALIZATIONS)],
    "pretrain": [Options(*PRETRAIN_METHODS)],
    "pretrain_epochs": [NON_NEGATIVE_INT],
    "finetune_epochs": [Options("auto"), NON_NEGATIVE_INT],
    "pretrain_optimizer": [None, OPTIMIZER],
    "dropout": [DROPOUT_RATE],
    "pretrain_corruption": [DROPOUT_RATE],
    "augmentation": [None, AUGMENTATION],
    "image_shape": [None, IMAGE_SHAPE],
    "kmeans_n_init": [POSITIVE_INT],
    "backup_dir": [None, BACKUP_DIR],
}


def check_features(X):
    """Refuse, naming `X`, what `validate_data` would not take: sparse, ndim, NaN, non-numbers.

    The conversion and the feature count are left to `validate_data` (DataFrames, integers).
    A value that is no number raises the error of its conversion (TypeError or ValueError), and
    a 1-D `X` says how to reshape it, as scikit-learn's estimator checks expect.
    """
    array = check_array("X", X, ndim=None, numeric=False, finite=False)
    if array.ndim != 2:
        hint = (
            " Reshape your data: X.reshape(-1, 1) for a single feature, X.reshape(1, -1) for a "
            "single sample."
            if array.ndim == 1
            else ""
        )
        raise ValueError(
            "`X` should be a 2D array (n_samples, n_features). Received: X with ndim "
            f"{array.ndim}, shape {array.shape}.{hint}"
        )
    if array.dtype.kind in "USO" and array.size:
        try:
            array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise type(error)(
                "`X` should hold numbers (integers or floats, as a NumPy array or a pandas "
                f"DataFrame): {error}. Received: X with dtype {array.dtype}, first row "
                f"{describe_value(array[0].tolist())}"
            ) from error
    check_array("X", array, numeric=False)  # NaN and inf


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


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop `fit` at the first non-finite batch loss, silently (Keras' TerminateOnNaN prints).

    `non_finite_epoch` is the (1-based) epoch where it happened, or None.
    """

    def on_train_begin(self, logs=None):
        self.non_finite_epoch = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            self.non_finite_epoch = self._epoch + 1
            self.model.stop_training = True


@keras_cluster_export("keras_cluster.estimators.BaseDeepClusterer")
class BaseDeepClusterer(
    ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator
):
    """Shared scikit-learn API of the deep clustering estimators.

    Subclasses implement `_fit(X)`, which sets `model_` (Keras model `X -> q` or, for hard
    clusterers, `X -> distances`), `encoder_`, `autoencoder_` and `cluster_centers_`; this class
    validates input, seeds, times the fit, and provides `predict`, `predict_proba`, `transform` and
    `fit_predict`. Everything is built inside the active `tf.distribute` strategy's scope.
    """

    _predict_batch_size = 4096
    # The attribute that `fit` sets last-but-one and that marks the estimator as fitted.
    _fitted_attribute = "model_"
    # What each constructor argument may be (`keras_cluster.validation`), checked by `fit`;
    # subclasses extend it with their own arguments.
    _parameter_constraints = {
        "n_clusters": [POSITIVE_INT],
        "batch_size": [POSITIVE_INT],
        "random_state": [None, NON_NEGATIVE_INT],
        "verbose": [NON_NEGATIVE_INT, "boolean"],
    }

    def _validate_params(self):
        validate_params(self._parameter_constraints, self.get_params(deep=False))

    def fit(self, X, y=None):
        """Fit on `X`; `y` is ignored.

        `X` is an array `(n_samples, n_features)` (finite) or, for the estimators that stream
        (`_streams = True`: DEC, IDEC, N2D), a `tf.data.Dataset` or `keras.utils.PyDataset`
        yielding batches of rows in the same order on every pass (see
        `keras_cluster.row_source`). Rows are read batch by batch in every stage.
        """
        self._validate_params()
        if is_stream(X):
            if not self._streams:
                raise ValueError(
                    f"`X` should be an array for {type(self).__name__}; a tf.data.Dataset or "
                    f"keras.utils.PyDataset is accepted by DEC, IDEC and N2D. Received: X={X!r}"
                )
            source = RowSource(X)
            self.n_features_in_ = source.n_features
        else:
            check_features(X)
            X = validate_data(self, X, dtype=[np.float32, np.float64], reset=True)
            source = RowSource(X.astype(np.float32, copy=False))
        if self.n_clusters > source.n_rows:
            raise ValueError(
                "`n_clusters` should be <= the number of samples. "
                f"Received: n_clusters={self.n_clusters} with n_samples={source.n_rows}"
            )
        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))
        start = time.perf_counter()
        with tf.distribute.get_strategy().scope():
            self._fit(source)
        remove_backup(getattr(self, "backup_dir", None))  # only the autoencoder-based have one
        self.fit_time_ = time.perf_counter() - start
        return self

    # Whether `fit` accepts a `tf.data.Dataset` / `keras.utils.PyDataset` as well as an array.
    _streams = False

    def _fit(self, source):
        """Fit on the rows of `source` (a `keras_cluster.row_source.RowSource`)."""
        raise NotImplementedError

    def _predict_rows(self, model, source):
        """`model.predict` over the rows of `source`, batch by batch."""
        return np.asarray(model.predict(source.batches(self._predict_batch_size), verbose=0))

    def _validated(self, X):
        check_is_fitted(self, self._fitted_attribute)
        check_features(X)
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

    @property
    def _n_features_out(self):
        """Columns of `transform`: the space of `cluster_centers_` (embedding or manifold).

        With it, `get_feature_names_out` names them (`dec0`, `dec1`, ...) and scikit-learn's
        `set_output(transform="pandas")` works.
        """
        return self.cluster_centers_.shape[1]

    def _validate_pretraining_params(self):
        """The checks of the pretraining parameters that involve two of them."""
        validate_augmentation(self.augmentation, self.image_shape)

    def _initialization(self, source, initialize):
        """`initialize(source)` -> `(centroids, labels)`, or its result saved in `backup_dir`."""
        backup_dir = getattr(self, "backup_dir", None)
        restored = restore_initialization(backup_dir, self.n_clusters, self.dims[-1], source.n_rows)
        if restored is not None:
            self.kmeans_ = None
            centroids, self.init_labels_ = restored
            self._log(f"Initial centroids restored from {backup_dir}")
            return centroids
        centroids, self.init_labels_ = initialize(source)
        save_initialization(backup_dir, centroids, self.init_labels_)
        return centroids

    def _kmeans_initialization(self, source, embedding=None):
        """`init="kmeans"`: k-means on the embedding (`embedding`, or computed from `source`)."""
        if embedding is None:
            embedding = self._predict_rows(self.encoder_, source)
        sample = self._clustering_sample(source, embedding)
        self.kmeans_ = KMeans(
            self.n_clusters, n_init=self.kmeans_n_init, random_state=self.random_state
        ).fit(sample)
        self._log(f"k-means on the embedding: inertia {self.kmeans_.inertia_:.4g}")
        labels = self.kmeans_.labels_ if sample is embedding else self.kmeans_.predict(embedding)
        return self.kmeans_.cluster_centers_, labels.astype(np.int64)

    def _clustering_sample(self, source, embedding):
        """The rows of `embedding` the start is fitted on: all, or a uniform sample if streamed."""
        if source.streamed and embedding.shape[0] > defaults.KMEANS_STREAM_SAMPLE:
            rows = np.random.default_rng(self.random_state).choice(
                embedding.shape[0], defaults.KMEANS_STREAM_SAMPLE, replace=False
            )
            return embedding[np.sort(rows)]
        return embedding

    def _build_and_pretrain(self, source, kernel_regularizer=None, weights=None):
        """Build and pretrain `autoencoder_`/`encoder_`.

        The autoencoder starts with the input normalization fitted on the rows of `source`
        (`normalization`, moments from one streaming pass). With `weights` (a `.weights.h5`
        path of an autoencoder of the same shape) the weights, the normalization's statistics
        included, are loaded instead of pretrained.

        Raises:
            RuntimeError: the reconstruction loss became NaN or inf (training stops at once).
            ValueError: `weights` is missing or does not fit the autoencoder.
        """
        validate_augmentation(self.augmentation, self.image_shape, source.n_features)
        self.autoencoder_, self.encoder_ = build_autoencoder(
            source.n_features,
            dims=tuple(self.dims),
            kernel_regularizer=kernel_regularizer,
            normalization=None
            if self.normalization is None
            else normalization_layer(
                *statistics_from_moments(*source.moments(), self.normalization)
            ),
        )
        if weights is not None:
            load_autoencoder_weights(self.autoencoder_, weights)
            self.pretrain_epochs_ = 0
            self._log(f"Pretraining skipped: autoencoder weights loaded from {weights}")
        else:
            self._pretrain(source)

    def _pretrain(self, source):
        self.pretrain_epochs_ = defaults.pretrain_epochs_for(
            self.finetune_epochs, source.n_rows, self.batch_size
        )
        layerwise = (
            f"{self.pretrain_epochs} epochs a layer pair, then "
            if self.pretrain == "layerwise"
            else ""
        )
        self._log(
            f"Pretraining the autoencoder ({layerwise}{self.pretrain_epochs_} epochs end to end"
            f"{', augmented' if self.augmentation is not None else ''}"
            f"{f', corrupted at {self.pretrain_corruption:g}' if self.pretrain_corruption else ''})"
            f" on {source.n_rows} samples"
        )
        optimizer = fresh_optimizer(self.pretrain_optimizer, default_pretrain_optimizer)
        learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        stop = StopOnNonFinite()
        pretrain_autoencoder(
            self.autoencoder_,
            source,
            method=self.pretrain,
            layerwise_epochs=self.pretrain_epochs,
            finetune_epochs=self.pretrain_epochs_,
            batch_size=self.batch_size,
            dropout=self.dropout,
            corruption=self.pretrain_corruption,
            optimizer=optimizer,
            callbacks=[stop, *self._progress("pretraining")],
            verbose=self._keras_verbose,
            augmentation=self.augmentation,
            image_shape=self.image_shape,
            seed=self.random_state,
            backup_dir=getattr(self, "backup_dir", None),
        )
        if stop.non_finite_epoch is not None:
            cause = (
                "X is used as given (normalization=None): pass normalization='global' (or "
                "scale X), or"
                if self.normalization is None
                else f"The inputs are normalized inside the model "
                f"(normalization={self.normalization!r}), so the scale of X is not the cause:"
            )
            raise RuntimeError(
                "Pretraining diverged: the reconstruction loss became NaN or inf at epoch "
                f"{stop.non_finite_epoch} with {type(optimizer).__name__} at learning rate "
                f"{learning_rate:g}. {cause} pass a `pretrain_optimizer` with a smaller learning "
                f"rate, e.g. keras.optimizers.Adam({learning_rate / 10:g})."
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
