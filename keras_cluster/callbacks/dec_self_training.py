"""DEC self-training: refresh the target distribution P over the whole dataset, stop on `tol`."""

import keras
import numpy as np
import tensorflow as tf

from keras_cluster import defaults
from keras_cluster.api_export import keras_cluster_export
from keras_cluster.models.dec import CLUSTERING_OUTPUT, RECONSTRUCTION_OUTPUT, assignment_model
from keras_cluster.row_source import RowSource, is_stream
from keras_cluster.validation import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    UNIT_INTERVAL,
    check_array,
    validate,
)


class SelfTrainingState(keras.layers.Layer):
    """The state of `DECSelfTraining` as non-trainable Keras variables.

    `target` (P, `(n, n_clusters)`), `labels` (the hard assignments at the last update, -1
    before the first), `n_batches`, `n_updates`, `delta_label` (NaN before the second update)
    and `converged`. The callback attaches this layer to the model it trains, so
    `model.save_weights` (and so `keras.callbacks.BackupAndRestore` and `ModelCheckpoint`) holds
    it next to the weights and the optimizer state.
    """

    def __init__(self, n_rows, n_clusters, **kwargs):
        super().__init__(**kwargs)
        self.target = self.add_weight(
            shape=(n_rows, n_clusters),
            initializer=keras.initializers.Constant(1.0 / n_clusters),
            trainable=False,
            name="target_distribution",
        )
        self.labels = self._state_variable("labels", (n_rows,), "int32", -1)
        self.n_batches = self._state_variable("n_batches", (), "int64", 0)
        self.n_updates = self._state_variable("n_updates", (), "int64", 0)
        self.delta_label = self._state_variable("delta_label", (), "float32", float("nan"))
        self.converged = self._state_variable("converged", (), "int32", 0)
        self.batch_start = self._state_variable("batch_start", (), "int64", 0)

    def _state_variable(self, name, shape, dtype, value):
        return self.add_weight(
            shape=shape,
            dtype=dtype,
            initializer=keras.initializers.Constant(value),
            trainable=False,
            name=name,
        )

    def reset(self):
        self.target.assign(keras.ops.full(self.target.shape, 1.0 / self.target.shape[1]))
        self.labels.assign(keras.ops.full(self.labels.shape, -1, dtype="int32"))
        for variable in (self.n_batches, self.n_updates, self.converged, self.batch_start):
            variable.assign(0)
        self.delta_label.assign(float("nan"))


@keras_cluster_export("keras_cluster.callbacks.DECSelfTraining")
class DECSelfTraining(keras.callbacks.Callback):
    """Refresh DEC's target distribution every `update_interval` batches and stop on `tol`.

    Every `update_interval` training batches (and at the start of training) the callback computes
    Q on all of `x` with the model being trained, sets P = `target_distribution(Q)` in a variable
    that the dataset from `make_dataset` reads, and measures the fraction of samples whose hard
    assignment `argmax_j q_ij` changed since the previous update. When that fraction falls below
    `tol`, training stops (`model.stop_training = True`), as in the paper. With `max_iter` set,
    training also stops after that many batches, whatever `epochs` the `fit` was given.

    `x` is an array or a stream of batches (`tf.data.Dataset` or `keras.utils.PyDataset`, read
    in its own order, which must be the same on every pass). Q is computed batch by batch and P
    is stored as `n × n_clusters` values; the rows are never copied into the graph, so memory is
    bounded by the batch, the model and P.

    The fraction is logged as `delta_label` at the end of each epoch; `callback.n_updates` and
    `callback.n_batches` count the updates and the batches of the last `fit`. The state (P, the
    labels of the last update, the counters) lives in Keras variables (`SelfTrainingState`)
    attached to the trained model, so `keras.callbacks.BackupAndRestore` saves and restores it
    with the weights: a `fit` resumed at a later epoch carries on, while a `fit` from epoch 0
    starts from a reset state (one instance can serve several `fit` calls).

    Args:
        x: the whole training set: array `(n, d)`, `tf.data.Dataset` or `keras.utils.PyDataset`
            of row batches.
        n_clusters: number of clusters of the model's `"clustering"` output.
        update_interval: batches between two refreshes of P (>= 1; default 70, the estimators'
            default, half the paper's 140).
        tol: stopping threshold on the fraction of changed assignments, in [0, 1].
        max_iter: stop after this many batches (None: only `tol` and `fit`'s epochs stop it).
        predict_batch_size: batch size used to compute Q over an array `x`.
        verbose: 1 to print each update's `delta_label`.

    Example:

    >>> import numpy as np
    >>> from keras_cluster.losses import DECLoss
    >>> from keras_cluster.models import build_autoencoder, build_dec_model
    >>> x = np.random.default_rng(0).random((200, 8), dtype="float32")
    >>> autoencoder, encoder = build_autoencoder(8, dims=(6, 2))
    >>> dec_model = build_dec_model(encoder, n_clusters=3)
    >>> self_training = DECSelfTraining(x, n_clusters=3, update_interval=5, tol=0.001)
    >>> dec_model.compile(optimizer="sgd", loss=DECLoss())
    >>> _ = dec_model.fit(self_training.make_dataset(batch_size=50), steps_per_epoch=5,
    ...                   epochs=3, callbacks=[self_training], verbose=0)
    >>> self_training.n_updates >= 1
    True

    References:
        Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering Analysis", ICML 2016.
    """

    def __init__(
        self,
        x,
        n_clusters,
        update_interval=defaults.UPDATE_INTERVAL,
        tol=defaults.TOL,
        max_iter=None,
        predict_batch_size=4096,
        verbose=0,
    ):
        super().__init__()
        validate("n_clusters", n_clusters, POSITIVE_INT)
        validate("update_interval", update_interval, POSITIVE_INT)
        validate("tol", tol, UNIT_INTERVAL)
        validate("max_iter", max_iter, None, NON_NEGATIVE_INT)
        validate("predict_batch_size", predict_batch_size, POSITIVE_INT)
        validate("verbose", verbose, NON_NEGATIVE_INT, "boolean")
        if isinstance(x, RowSource):
            source = x
        elif is_stream(x):
            source = RowSource(x)
        else:
            x = check_array("x", x, shape_words="2-D, (n_samples, n_features)")
            if x.dtype.kind in "iu":  # integer features, as scikit-learn takes them
                x = x.astype("float32")
            source = RowSource(x)
        if n_clusters > source.n_rows:
            raise ValueError(
                "`n_clusters` should be <= the number of samples of `x`. "
                f"Received: n_clusters={n_clusters} with x of shape "
                f"{(source.n_rows, source.n_features)}"
            )
        self.source = source
        self.n_clusters = int(n_clusters)
        self.update_interval = update_interval
        self.tol = float(tol)
        self.max_iter = max_iter
        self.predict_batch_size = predict_batch_size
        self.verbose = verbose
        self.state = SelfTrainingState(
            self.source.n_rows, self.n_clusters, name="dec_self_training"
        )

    @property
    def target(self):
        """The variable holding P, `(n, n_clusters)`."""
        return self.state.target

    @property
    def n_batches(self):
        return int(self.state.n_batches.numpy())

    @property
    def n_updates(self):
        return int(self.state.n_updates.numpy())

    @property
    def converged(self):
        return bool(self.state.converged.numpy())

    @property
    def delta_label(self):
        delta = float(self.state.delta_label.numpy())
        return None if np.isnan(delta) else delta

    @property
    def labels(self):
        """The hard assignments at the last update (None before the first)."""
        labels = self.state.labels.numpy()
        return None if self.n_updates == 0 else labels.astype(np.int64)

    def make_dataset(
        self,
        batch_size=256,
        reconstruction=False,
        shuffle=True,
        seed=None,
        augmentation=None,
        reconstruction_target=None,
    ):
        """An endless `tf.data.Dataset` of `(x_batch, p_batch)` reading the live target P.

        With `reconstruction=True` the targets are `{"clustering": p, "reconstruction": t}`, for
        the IDEC model, where `t = reconstruction_target(x_batch)` (default: `x_batch` itself;
        `keras_cluster.models.normalize` bound to the autoencoder for a normalizing one).
        `augmentation` (a function on flat batches, see `keras_cluster.models.augmenter`)
        transforms each drawn batch; P stays the one computed on the clean `x` (DEC-DA). No
        prefetch is injected, so each batch reads P as it is when the batch is drawn.

        The batches are numbered from the start of training (see
        `keras_cluster.row_source.RowSource.training_batches`): an array is drawn in a fresh
        permutation each pass (`shuffle`, from `seed`), a stream in its own order, and a `fit`
        resumed from a backup draws the batches the interrupted one would have drawn next.
        """
        target = self.state.target

        def pair(x_batch, positions):
            if augmentation is not None:
                x_batch = augmentation(x_batch)
            p_batch = tf.gather(target.value, positions)
            if reconstruction:
                reconstructed = (
                    x_batch if reconstruction_target is None else reconstruction_target(x_batch)
                )
                return x_batch, {CLUSTERING_OUTPUT: p_batch, RECONSTRUCTION_OUTPUT: reconstructed}
            return x_batch, p_batch

        batches = self.source.training_batches(
            batch_size, self.state.batch_start.value, seed=seed, shuffle=shuffle
        )
        return batches.map(pair)

    def soft_assignments(self):
        """Q over the whole of `x` with the current weights, `(n, n_clusters)`."""
        q = self._assignment_model.predict(self.source.batches(self.predict_batch_size), verbose=0)
        return np.asarray(q)

    def update_target(self):
        """Recompute P from Q over `x`; returns the fraction of changed hard assignments."""
        q = self.soft_assignments()
        labels = q.argmax(axis=1).astype(np.int32)
        frequency = q.sum(axis=0, dtype=np.float64)
        # P in float64 a chunk of rows at a time, into one float32 array assigned whole (a
        # sliced assign fails on the mirrored variables of a tf.distribute strategy).
        target = np.empty(q.shape, np.float32)
        chunk = 65536
        for start in range(0, q.shape[0], chunk):
            weight = q[start : start + chunk].astype(np.float64) ** 2 / frequency
            target[start : start + chunk] = weight / weight.sum(axis=1, keepdims=True)
        self.state.target.assign(target)
        previous = self.labels
        delta = None if previous is None else float(np.mean(labels != previous))
        self.state.labels.assign(labels)
        self.state.delta_label.assign(float("nan") if delta is None else delta)
        self.state.n_updates.assign_add(1)
        return delta

    def set_model(self, model):
        super().set_model(model)
        # Attached as an attribute, the state is part of `model.save_weights` (BackupAndRestore).
        model._dec_self_training_state = self.state
        # IDEC is read through its "clustering" output alone: the full-data pass skips the decoder.
        self._assignment_model = assignment_model(model)

    def on_train_begin(self, logs=None):
        self._first_epoch = True

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch:
            self._first_epoch = False
            # From epoch 0 a fresh start; from a later epoch (BackupAndRestore restored the state
            # with the weights, or `initial_epoch`), carry on where the state stands.
            if epoch == 0:
                self.state.reset()
            self.state.batch_start.assign(self.state.n_batches)

    def on_train_batch_begin(self, batch, logs=None):
        if self.n_batches % self.update_interval == 0:
            delta = self.update_target()
            if self.verbose and delta is not None:
                print(f"DEC update {self.n_updates}: delta_label={delta:.5f}")
            if delta is not None and delta < self.tol:
                self.state.converged.assign(1)
                self.model.stop_training = True
                if self.verbose:
                    print(f"DEC converged: delta_label {delta:.5f} < tol {self.tol}")
        self.state.n_batches.assign_add(1)

    def on_train_batch_end(self, batch, logs=None):
        if self.max_iter is not None and self.n_batches >= self.max_iter:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.delta_label is not None:
            logs["delta_label"] = self.delta_label
