"""DEC self-training: refresh the target distribution P over the whole dataset, stop on `tol`."""

import keras
import numpy as np
import tensorflow as tf

from keras_cluster import defaults
from keras_cluster.losses.dec import target_distribution
from keras_cluster.models.dec import CLUSTERING_OUTPUT, RECONSTRUCTION_OUTPUT, assignment_model
from keras_cluster.validation import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    UNIT_INTERVAL,
    check_array,
    validate,
)


class DECSelfTraining(keras.callbacks.Callback):
    """Refresh DEC's target distribution every `update_interval` batches and stop on `tol`.

    Every `update_interval` training batches (and at the start of training) the callback computes
    Q on all of `x` with the model being trained, sets P = `target_distribution(Q)` in a variable
    that the dataset from `make_dataset` reads, and measures the fraction of samples whose hard
    assignment `argmax_j q_ij` changed since the previous update. When that fraction falls below
    `tol`, training stops (`model.stop_training = True`), as in the paper. With `max_iter` set,
    training also stops after that many batches, whatever `epochs` the `fit` was given.

    The fraction is logged as `delta_label` at the end of each epoch; `callback.n_updates` and
    `callback.n_batches` count the updates and the batches of the last `fit`. One instance can
    serve several `fit` calls: its state is reset in `on_train_begin`.

    Args:
        x: the whole training set, array `(n, d)`.
        n_clusters: number of clusters of the model's `"clustering"` output.
        update_interval: batches between two refreshes of P (>= 1; default 70, the estimators'
            default, half the paper's 140).
        tol: stopping threshold on the fraction of changed assignments, in [0, 1].
        max_iter: stop after this many batches (None: only `tol` and `fit`'s epochs stop it).
        predict_batch_size: batch size used to compute Q over `x`.
        verbose: 1 to print each update's `delta_label`.

    Example:

    ```python
    self_training = DECSelfTraining(x, n_clusters=10, update_interval=70, tol=0.001)
    dec_model.compile(optimizer="sgd", loss=DECLoss())
    dec_model.fit(self_training.make_dataset(batch_size=256), steps_per_epoch=70,
                  epochs=100, callbacks=[self_training])
    ```

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
        x = check_array("x", x, shape_words="2-D, (n_samples, n_features)")
        if x.dtype.kind in "iu":  # integer features, as scikit-learn takes them
            x = x.astype("float32")
        validate("n_clusters", n_clusters, POSITIVE_INT)
        if n_clusters > x.shape[0]:
            raise ValueError(
                "`n_clusters` should be <= the number of samples of `x`. "
                f"Received: n_clusters={n_clusters} with x of shape {x.shape}"
            )
        validate("update_interval", update_interval, POSITIVE_INT)
        validate("tol", tol, UNIT_INTERVAL)
        validate("max_iter", max_iter, None, NON_NEGATIVE_INT)
        validate("predict_batch_size", predict_batch_size, POSITIVE_INT)
        validate("verbose", verbose, NON_NEGATIVE_INT, "boolean")
        self.x = x
        self.n_clusters = int(n_clusters)
        self.update_interval = update_interval
        self.tol = float(tol)
        self.max_iter = max_iter
        self.predict_batch_size = predict_batch_size
        self.verbose = verbose
        self.target = tf.Variable(
            tf.fill((x.shape[0], self.n_clusters), 1.0 / self.n_clusters),
            trainable=False,
            name="dec_target_distribution",
        )
        self._reset()

    def _reset(self):
        self.n_updates = 0
        self.delta_label = None
        self.converged = False
        self.labels = None
        self.n_batches = 0

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
        """
        x = tf.constant(self.x)
        target = self.target
        n = self.x.shape[0]
        indices = tf.data.Dataset.range(n)
        if shuffle:
            indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        indices = indices.repeat().batch(batch_size)

        def gather(index):
            x_batch = tf.gather(x, index)
            if augmentation is not None:
                x_batch = augmentation(x_batch)
            p_batch = tf.gather(target, index)
            if reconstruction:
                reconstructed = (
                    x_batch if reconstruction_target is None else reconstruction_target(x_batch)
                )
                return x_batch, {CLUSTERING_OUTPUT: p_batch, RECONSTRUCTION_OUTPUT: reconstructed}
            return x_batch, p_batch

        options = tf.data.Options()
        options.experimental_optimization.inject_prefetch = False
        options.experimental_deterministic = True
        return indices.map(gather).with_options(options)

    def soft_assignments(self):
        """Q over the whole of `x` with the current weights."""
        q = self._assignment_model.predict(x=self.x, batch_size=self.predict_batch_size, verbose=0)
        return np.asarray(q)

    def update_target(self):
        """Recompute P from Q over `x`; returns the fraction of changed hard assignments."""
        q = self.soft_assignments()
        labels = q.argmax(axis=1)
        self.target.assign(
            keras.ops.convert_to_numpy(target_distribution(q.astype("float64"))).astype(
                self.target.dtype.as_numpy_dtype
            )
        )
        self.delta_label = None if self.labels is None else float(np.mean(labels != self.labels))
        self.labels = labels
        self.n_updates += 1
        return self.delta_label

    def set_model(self, model):
        super().set_model(model)
        # IDEC is read through its "clustering" output alone: the full-data pass skips the decoder.
        self._assignment_model = assignment_model(model)

    def on_train_begin(self, logs=None):
        self._reset()

    def on_train_batch_begin(self, batch, logs=None):
        if self.n_batches % self.update_interval == 0:
            delta = self.update_target()
            if self.verbose and delta is not None:
                print(f"DEC update {self.n_updates}: delta_label={delta:.5f}")
            if delta is not None and delta < self.tol:
                self.converged = True
                self.model.stop_training = True
                if self.verbose:
                    print(f"DEC converged: delta_label {delta:.5f} < tol {self.tol}")
        self.n_batches += 1

    def on_train_batch_end(self, batch, logs=None):
        if self.max_iter is not None and self.n_batches >= self.max_iter:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.delta_label is not None:
            logs["delta_label"] = self.delta_label
