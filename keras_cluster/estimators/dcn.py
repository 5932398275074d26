"""scikit-learn style DCN estimator on top of `keras_cluster.models.DeepClusteringNetwork`."""

import keras
import numpy as np

from keras_cluster import defaults
from keras_cluster.api_export import keras_cluster_export
from keras_cluster.callbacks.batch_position import batch_start, resumable_fit_callbacks
from keras_cluster.distribute.multi_worker import adapt_for_multi_worker
from keras_cluster.estimators.base import (
    CALLBACKS,
    PRETRAINING_CONSTRAINTS,
    WEIGHTS_FILE,
    BaseDeepClusterer,
)
from keras_cluster.estimators.initialization import INIT_CONSTRAINTS, CentroidInitMixin
from keras_cluster.estimators.nearest_centroid import NearestCentroidMixin
from keras_cluster.models.autoencoder import (
    fresh_optimizer,
    reconstruction_dataset,
    reconstruction_model,
)
from keras_cluster.models.dcn import CENTROID_UPDATES, DeepClusteringNetwork
from keras_cluster.models.prebuilt_optimizer import compile_prebuilt
from keras_cluster.validation import NON_NEGATIVE, NON_NEGATIVE_INT, OPTIMIZER, POSITIVE, Options


@keras_cluster_export("keras_cluster.estimators.DCN")
class DCN(CentroidInitMixin, NearestCentroidMixin, BaseDeepClusterer):
    """Deep Clustering Network (Yang et al. 2017) with a scikit-learn API.

    1. Pretrain the autoencoder `X-dims-X` (end to end, or layer-wise denoising then end to
       end), its input normalized inside the model (`normalization`, as `DEC`).
    2. k-means (`n_init=kmeans_n_init`) on the embedding initialises the centroids (`init`, as
       `DEC`'s).
    3. `epochs` of `model.fit` on the paper's per-sample objective

       ```
       L_i = |x_i - x_hat_i|^2 + clustering_weight * min_k |z_i - mu_k|^2  (+ L2 penalty)
       ```

       (squared error summed over features, in normalized units; `clustering_weight` is the
       paper's lambda / 2), the
       centroids moved by per-cluster counts starting at `initial_count` (`"count"`, the paper)
       or by the optimizer (`"sgd"`).

    L2 regularisation the Keras way: `l2 > 0` puts `keras.regularizers.L2(l2)` on every kernel
    of the autoencoder (the penalty is part of the training loss), or pass
    `optimizer=keras.optimizers.AdamW(weight_decay=...)` for decoupled weight decay.

    DCN is a hard clusterer: `predict` gives the nearest centroid, `model_` (and `distances`)
    maps `X` to the squared distances to the centroids, and there is no `predict_proba`.

    Args:
        n_clusters: number of clusters.
        dims: encoder widths; the last is the embedding size.
        clustering_weight: weight of the k-means term (lambda / 2), >= 0.
        centroid_update: `"count"` or `"sgd"`.
        initial_count: starting per-cluster count of the count update (> 0).
        l2: L2 factor of the kernel regularizers (>= 0; 0 = none).
        normalization: `"global"`, `"feature"` or None, as `DEC`.
        pretrain: `"end_to_end"` or `"layerwise"`.
        autoencoder_weights: path of a `.weights.h5` file of an autoencoder with the same
            feature count and `dims` (e.g. `DEC(..., max_iter=0).fit(X).autoencoder_.save_weights(
            path)`): loaded instead of pretraining, so DEC, IDEC, N2D and DCN can start from one
            autoencoder. Default None. The file holds no regularizer: `l2` applies to the
            clustering stage.
        pretrain_epochs: epochs for each layer pair of the layer-wise pretraining.
        finetune_epochs: epochs of end-to-end autoencoder training, or `"auto"` (default):
            about 1,200 optimizer steps and at least 50 epochs (`keras_cluster.defaults`).
        pretrain_optimizer: optimizer of the pretraining (default Adam(1e-3)).
        dropout: corruption rate of the layer-wise denoising pretraining.
        pretrain_corruption: dropout rate of the end-to-end pretraining batches, in [0, 1): each
            entry takes its feature's mean with this probability (in normalized units, so any
            affine rescaling of X corrupts alike) and the autoencoder reconstructs the corrupted
            rows. Default 0; `keras_cluster.defaults.PRETRAIN_CORRUPTION` has the measurements.
        optimizer: optimizer of the clustering stage (default Adam(1e-4)).
        batch_size: mini-batch size of every stage.
        epochs: epochs of the clustering stage.
        init: the initial centroids: `"kmeans"` (the paper), `"gmm"` (the partition of a
            full-covariance Gaussian mixture started from that k-means), `"manifold"` (the
            centroids of N2D's UMAP + k-means partition of the embedding; needs the umap
            extra), or an array `(n_clusters, dims[-1])`. See
            `keras_cluster.estimators.initialization`.
        augmentation: optional Keras layer or model applied to every pretraining and clustering
            batch seen as images of `image_shape`, as `DEC`.
        image_shape: shape of one sample as an image; with `augmentation`.
        kmeans_n_init: k-means restarts for the centroid initialisation.
        callbacks: extra Keras callbacks for the clustering stage.
        backup_dir: optional folder for a backup of the fit (pretraining, the k-means start, and
            the clustering stage's weights, centroids, counts and optimizer state), so that a fit
            killed and started again with the same arguments resumes, as `DEC`'s. Removed when
            the fit succeeds.
        random_state: seed of Python, NumPy, TensorFlow and k-means; None leaves them alone.
        verbose: 0 silent, 1 stage summaries, 2 Keras progress too.

    Attributes:
        labels_: hard assignment of each training sample.
        cluster_centers_: centroids in the embedding, `(n_clusters, dims[-1])`.
        model_: Keras model `X -> squared distances` to the centroids.
        encoder_: Keras model `X -> z`.
        autoencoder_: Keras model `X -> X_hat`.
        network_: the trained `DeepClusteringNetwork`.
        kmeans_: the k-means fitted on the pretrained embedding (`init="kmeans"` or `"gmm"`).
        gaussian_mixture_: the Gaussian mixture of `init="gmm"` (None if its fit failed).
        init_labels_: the partition the centroids started from.
        pretrain_epochs_: end-to-end pretraining epochs run (0 with `autoencoder_weights`).
        history_: the clustering stage's `History`.
        fit_time_: seconds spent in `fit`.

    The models' `.keras` files load with `keras.models.load_model(path)` (`safe_mode=True`: no
    Lambda layers) after `import keras_cluster`; no `custom_objects`.

    Example:

    >>> from keras_cluster.datasets import load_digits
    >>> X, y = load_digits()
    >>> dcn = DCN(n_clusters=10, dims=(32, 10), finetune_epochs=3, epochs=1,
    ...           random_state=0, verbose=0).fit(X[:500])
    >>> dcn.labels_.shape, dcn.cluster_centers_.shape, dcn.predict(X[:2]).shape
    ((500,), (10, 10), (2,))

    References:
        Yang, Fu, Sidiropoulos & Hong, "Towards K-means-friendly Spaces: Simultaneous Deep
        Learning and Clustering", ICML 2017.
    """

    _parameter_constraints = {
        **BaseDeepClusterer._parameter_constraints,
        **PRETRAINING_CONSTRAINTS,
        **INIT_CONSTRAINTS,
        "autoencoder_weights": [None, WEIGHTS_FILE],
        "clustering_weight": [NON_NEGATIVE],
        "centroid_update": [Options(*CENTROID_UPDATES)],
        "initial_count": [POSITIVE],
        "l2": [NON_NEGATIVE],
        "optimizer": [None, OPTIMIZER],
        "epochs": [NON_NEGATIVE_INT],
        "callbacks": [None, CALLBACKS],
    }

    def __init__(
        self,
        n_clusters=10,
        *,
        dims=defaults.DIMS,
        clustering_weight=0.5,
        centroid_update="count",
        initial_count=100.0,
        l2=0.0,
        normalization=defaults.NORMALIZATION,
        pretrain=defaults.PRETRAIN,
        autoencoder_weights=None,
        pretrain_epochs=defaults.LAYERWISE_EPOCHS,
        finetune_epochs=defaults.FINETUNE_EPOCHS,
        pretrain_optimizer=None,
        dropout=defaults.DROPOUT,
        pretrain_corruption=defaults.PRETRAIN_CORRUPTION,
        optimizer=None,
        batch_size=defaults.BATCH_SIZE,
        epochs=50,
        init="kmeans",
        augmentation=None,
        image_shape=None,
        kmeans_n_init=defaults.KMEANS_N_INIT,
        callbacks=None,
        backup_dir=None,
        random_state=None,
        verbose=1,
    ):
        self.n_clusters = n_clusters
        self.dims = dims
        self.clustering_weight = clustering_weight
        self.centroid_update = centroid_update
        self.initial_count = initial_count
        self.l2 = l2
        self.normalization = normalization
        self.pretrain = pretrain
        self.autoencoder_weights = autoencoder_weights
        self.pretrain_epochs = pretrain_epochs
        self.finetune_epochs = finetune_epochs
        self.pretrain_optimizer = pretrain_optimizer
        self.dropout = dropout
        self.pretrain_corruption = pretrain_corruption
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.epochs = epochs
        self.init = init
        self.augmentation = augmentation
        self.image_shape = image_shape
        self.kmeans_n_init = kmeans_n_init
        self.callbacks = callbacks
        self.backup_dir = backup_dir
        self.random_state = random_state
        self.verbose = verbose

    def _validate_params(self):
        super()._validate_params()
        self._validate_pretraining_params()
        self._validate_init()

    def _fit(self, source):
        regularizer = keras.regularizers.L2(self.l2) if self.l2 else None
        centroids = self._initial_centroids(source, kernel_regularizer=regularizer)

        self.network_ = DeepClusteringNetwork(
            reconstruction_model(self.autoencoder_),
            self.encoder_.layers[-1].name,
            self.n_clusters,
            clustering_weight=self.clustering_weight,
            centroid_update=self.centroid_update,
            initial_count=self.initial_count,
        )
        self.network_.set_centroids(centroids)
        # Built before `fit` (an inference call moves no centroid): BackupAndRestore needs it.
        self.network_(np.zeros((1, source.n_features), dtype="float32"))
        compile_prebuilt(
            self.network_,
            optimizer=fresh_optimizer(
                self.optimizer, lambda: keras.optimizers.Adam(learning_rate=1e-4)
            ),
            loss="mse",
            # Per-element MSE times the feature count is the paper's per-sample squared error.
            loss_weights=[float(source.n_features)],
        )
        adapt_for_multi_worker(self.network_)
        self._log(f"DCN: {self.epochs} epochs, centroids by {self.centroid_update}")
        start = batch_start()
        self.history_ = self.network_.fit(
            reconstruction_dataset(
                self.autoencoder_,
                source,
                self.batch_size,
                self.augmentation,
                self.image_shape,
                seed=self.random_state,
                start=start,
            ),
            steps_per_epoch=-(-source.n_rows // self.batch_size),
            epochs=self.epochs,
            shuffle=False,  # the dataset shuffles itself
            callbacks=[
                *resumable_fit_callbacks(self.backup_dir, "clustering", start),
                *self._progress("DCN"),
                *(self.callbacks or []),
            ],
            verbose=self._keras_verbose,
        )
        self.model_ = self.network_.serving_model()
        self.cluster_centers_ = keras.ops.convert_to_numpy(self.network_.centroids)
        self.labels_ = self.predict(source.array)
        self._log(
            f"Done: cluster sizes {np.bincount(self.labels_, minlength=self.n_clusters).tolist()}"
        )
