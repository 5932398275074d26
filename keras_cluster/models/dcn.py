"""Deep Clustering Network (Yang et al. 2017): autoencoder + reconstruction + k-means loss."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.layers.centroid_distances import CentroidDistances
from keras_cluster.losses.kmeans import kmeans_loss, nearest_centroid
from keras_cluster.validation import (
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    Options,
    validate,
)

CENTROID_UPDATES = ("count", "sgd")


@keras_cluster_export("keras_cluster.models.DeepClusteringNetwork", keras_serializable=True)
class DeepClusteringNetwork(keras.Model):
    """DCN: train an autoencoder on reconstruction + `clustering_weight` * k-means loss.

    Formula (per batch; z = encoder(x), mu = centroids):

    ```
    loss = compiled_loss(x, decoder(z)) + clustering_weight * mean_i min_k |z_i - mu_k|^2
           + regularizers
    ```

    `compile` it with the reconstruction loss (`"mse"`) and `fit(x, x)`. Centroids:

    - `centroid_update="count"` (the paper): the network step holds mu fixed; then every sample
      of the batch moves its nearest centroid by `mu_k <- mu_k - (mu_k - z_i) / c_k`, `c_k` its
      running count (starting at `initial_count`, 100 in the paper's code). Done for the whole
      batch at once, this is exactly `mu_k <- (c_k mu_k + sum_{i in k} z_i) / (c_k + n_k)`.
      Assignments and updates use the codes of the forward pass of the step.
    - `centroid_update="sgd"`: the centroids are trained by the optimizer with the network.

    L2 regularisation the Keras way: build the autoencoder with `kernel_regularizer=
    keras.regularizers.L2(l2)` (the penalty is in `model.losses` and so in the training loss), or
    `compile` with `keras.optimizers.AdamW(weight_decay=...)`.

    The k-means term (unweighted) is logged as the metric `kmeans`. `model(x)` returns the
    reconstruction; `serving_model()` a functional model `x -> squared distances to centroids`.

    Args:
        autoencoder: functional autoencoder `x -> x_hat` (e.g. from `build_autoencoder`).
        code_layer: name of its embedding layer (e.g. `"encoder_3"`).
        n_clusters: number of clusters.
        clustering_weight: lambda, weight of the k-means term (>= 0).
        centroid_update: `"count"` or `"sgd"`.
        initial_count: starting value of the per-cluster counts (> 0).
        initial_centroids: optional array `(n_clusters, code_dim)` (else set by `set_centroids`).
        **kwargs: passed to `keras.Model`.

    Example:

    >>> import numpy as np
    >>> from keras_cluster.models import build_autoencoder
    >>> autoencoder, encoder = build_autoencoder(8, dims=(6, 2))
    >>> dcn = DeepClusteringNetwork(autoencoder, "encoder_1", n_clusters=3)
    >>> dcn.compile("adam", "mse")
    >>> x = np.random.rand(32, 8).astype("float32")
    >>> dcn.set_centroids(dcn.encoder.predict(x[:3], verbose=0))
    >>> _ = dcn.fit(x, x, batch_size=16, epochs=1, verbose=0)

    References:
        Yang, Fu, Sidiropoulos & Hong, "Towards K-means-friendly Spaces: Simultaneous Deep
        Learning and Clustering", ICML 2017.
    """

    def __init__(
        self,
        autoencoder,
        code_layer,
        n_clusters,
        clustering_weight=1.0,
        centroid_update="count",
        initial_count=100.0,
        initial_centroids=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(autoencoder, keras.Model) or not hasattr(autoencoder, "inputs"):
            raise ValueError(
                "`autoencoder` should be a functional keras.Model. "
                f"Received: autoencoder={autoencoder!r}"
            )
        known = [layer.name for layer in autoencoder.layers]
        if code_layer not in known:
            raise ValueError(
                f"`code_layer` should name a layer of `autoencoder` ({known}). "
                f"Received: code_layer={code_layer!r}"
            )
        validate("n_clusters", n_clusters, POSITIVE_INT)
        validate("clustering_weight", clustering_weight, NON_NEGATIVE)
        validate("centroid_update", centroid_update, Options(*CENTROID_UPDATES))
        validate("initial_count", initial_count, POSITIVE)
        self.autoencoder = autoencoder
        self.code_layer = code_layer
        self.n_clusters = n_clusters
        self.clustering_weight = float(clustering_weight)
        self.centroid_update = centroid_update
        self.initial_count = float(initial_count)
        self.initial_centroids = initial_centroids
        code = autoencoder.get_layer(code_layer).output
        self.network = keras.Model(autoencoder.input, (autoencoder.output, code), name="network")
        self.encoder = keras.Model(autoencoder.input, code, name="encoder")
        self.clustering = CentroidDistances(
            n_clusters,
            initial_centroids=initial_centroids,
            trainable_centroids=centroid_update == "sgd",
            name="clustering",
        )
        self.clustering.build(code.shape)
        self.counts = self.add_weight(
            shape=(n_clusters,),
            initializer=keras.initializers.Constant(self.initial_count),
            trainable=False,
            name="counts",
        )
        self.kmeans_tracker = keras.metrics.Mean(name="kmeans")
        # This replica's counts n_k and sums of the codes of the last training batch. Replica-
        # local ("on read") variables, not Python attributes: under MirroredStrategy each
        # replica writes its own in `call`, and `train_step` sums them across the replicas.
        # Plain tf.Variables, so they are neither weights nor saved with the model.
        self._batch_statistics = [
            tf.Variable(
                tf.zeros(shape, dtype=self.centroids.dtype),
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.SUM,
                name=name,
            )
            for shape, name in (
                ((n_clusters,), "batch_counts"),
                (self.centroids.shape, "batch_sums"),
            )
        ]

    @property
    def centroids(self):
        """The centroids variable, shape `(n_clusters, code_dim)`."""
        return self.clustering.centroids

    def set_centroids(self, centroids):
        """Set the centroids (e.g. from k-means on the pretrained codes) and reset the counts."""
        centroids = np.asarray(centroids, dtype="float32")
        if centroids.shape != tuple(self.centroids.shape):
            raise ValueError(
                f"`centroids` should have shape {tuple(self.centroids.shape)}. "
                f"Received: centroids.shape={centroids.shape}"
            )
        self.centroids.assign(centroids)
        self.counts.assign(np.full((self.n_clusters,), self.initial_count, "float32"))

    def _record_batch_statistics(self, code):
        """Stores this replica's `n_k` and `sum_{i in k} z_i`, k the nearest centroid of z_i."""
        centroids = ops.convert_to_tensor(self.centroids)
        members = ops.one_hot(nearest_centroid(code, centroids), self.n_clusters, dtype=code.dtype)
        batch_counts, sums = self._batch_statistics
        batch_counts.assign(ops.cast(ops.sum(members, axis=0), batch_counts.dtype))
        sums.assign(ops.cast(ops.matmul(ops.transpose(members), code), sums.dtype))

    def _update_centroids(self):
        """Per-cluster running means: `mu_k <- (c_k mu_k + sum_{i in k} z_i) / (c_k + n_k)`.

        Under `tf.distribute` (`MirroredStrategy`, `MultiWorkerMirroredStrategy`) each replica
        holds a part of the global batch: `n_k` and the sums are summed across the replicas
        first, so every replica applies the update of the whole batch to its copy. The sum
        happens here, after the loss was taken, and not in `call`: an all-reduce inside `call`
        lets the replica threads of `MirroredStrategy` interleave their `add_loss` lists.
        """
        batch_counts, sums = (v.read_value() for v in self._batch_statistics)  # this replica's
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            batch_counts, sums = replica.all_reduce("sum", [batch_counts, sums])
        centroids = ops.convert_to_tensor(self.centroids)
        counts = ops.cast(self.counts, centroids.dtype)
        new_counts = counts + batch_counts
        self.centroids.assign((counts[:, None] * centroids + sums) / new_counts[:, None])
        self.counts.assign(new_counts)

    def call(self, inputs, training=None):
        reconstruction, code = self.network(inputs, training=training)
        if training:
            centroids = ops.convert_to_tensor(self.centroids)
            if self.centroid_update == "count":
                centroids = ops.stop_gradient(centroids)
            clustering = kmeans_loss(code, centroids)
            self.add_loss(self.clustering_weight * clustering)
            self.kmeans_tracker.update_state(clustering)
            if self.centroid_update == "count":
                self._record_batch_statistics(ops.stop_gradient(code))
        return reconstruction

    def train_step(self, data):
        """Keras's step of the network (centroids fixed), then the count update of "count"."""
        logs = super().train_step(data)
        if self.centroid_update == "count":
            self._update_centroids()
        return logs

    def serving_model(self, name="dcn"):
        """Functional model `x -> squared distances to the centroids` (shares the weights)."""
        code = self.autoencoder.get_layer(self.code_layer).output
        return keras.Model(self.autoencoder.input, self.clustering(code), name=name)

    def get_config(self):
        config = super().get_config()
        config.update(
            autoencoder=keras.saving.serialize_keras_object(self.autoencoder),
            code_layer=self.code_layer,
            n_clusters=self.n_clusters,
            clustering_weight=self.clustering_weight,
            centroid_update=self.centroid_update,
            initial_count=self.initial_count,
            initial_centroids=None
            if self.initial_centroids is None
            else np.asarray(self.initial_centroids).tolist(),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        autoencoder = keras.saving.deserialize_keras_object(config.pop("autoencoder"))
        return cls(autoencoder, **config)
