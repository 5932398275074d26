"""scikit-learn style DEC and IDEC estimators on the Keras models of `keras_cluster.models`."""

import functools
import math

import keras
import numpy as np

from keras_cluster import defaults
from keras_cluster.api_export import keras_cluster_export
from keras_cluster.callbacks.batch_position import resumable_fit_callbacks
from keras_cluster.callbacks.dec_self_training import DECSelfTraining
from keras_cluster.distribute.multi_worker import adapt_for_multi_worker
from keras_cluster.estimators.base import (
    CALLBACKS,
    PRETRAINING_CONSTRAINTS,
    WEIGHTS_FILE,
    BaseDeepClusterer,
)
from keras_cluster.estimators.initialization import INIT_CONSTRAINTS, CentroidInitMixin
from keras_cluster.losses.dec import TARGETS, DECLoss
from keras_cluster.models.augmentation import augmenter
from keras_cluster.models.autoencoder import fresh_optimizer, normalize
from keras_cluster.models.dec import (
    CLUSTERING_OUTPUT,
    RECONSTRUCTION_OUTPUT,
    assignment_model,
    build_dec_model,
    build_idec_model,
)
from keras_cluster.models.prebuilt_optimizer import compile_prebuilt
from keras_cluster.validation import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPTIMIZER,
    POSITIVE,
    POSITIVE_INT,
    UNIT_INTERVAL,
    Options,
)


@keras_cluster_export("keras_cluster.estimators.DEC")
class DEC(CentroidInitMixin, BaseDeepClusterer):
    """Deep Embedded Clustering (Xie, Girshick & Farhadi 2016) with a scikit-learn API.

    1. Pretrain the autoencoder `X-dims-X` (end to end, or greedy layer-wise denoising then end
       to end), its input normalized inside the model (`normalization`).
    2. The centroids start from k-means (`n_init=kmeans_n_init`) on the embedding (`init`).
    3. Self-training in `model.fit`: minimise KL(P || Q), P refreshed over the whole dataset every
       `update_interval` batches (`target="full"`) or computed from each batch's own Q
       (`target="batch"`, the default without `augmentation`),
       stopping when fewer than `tol` of the hard assignments change, or after `max_iter` batches.

    Data larger than memory: `fit` takes an array (a `np.memmap` too), a `tf.data.Dataset` or a
    `keras.utils.PyDataset` yielding batches of rows, the same rows in the same order on every
    pass (`keras_cluster.row_source`). Every stage reads the rows batch by batch: the
    normalization's moments in one pass, the embedding and Q in streaming passes, P stored as
    `n × n_clusters` values. An array is drawn in a fresh permutation each pass; a stream in its
    own order. For a stream, the k-means start runs on a sample of at most
    `keras_cluster.defaults.KMEANS_STREAM_SAMPLE` embedded rows (the embedding, `n × dims[-1]`,
    is held), and every row takes its nearest centroid.

    Args:
        n_clusters: number of clusters.
        dims: encoder widths; the last is the embedding size.
        alpha: degrees of freedom of the Student's t kernel.
        normalization: `"global"` (centre each feature, divide all by one common scale: the
            geometry of X is kept), `"feature"` (standardize each feature) or None. The
            statistics are fitted on X and live in the models' first layer, so `model_` and its
            exports take raw rows. See `keras_cluster.models.normalization`.
        pretrain: `"end_to_end"` or `"layerwise"` (the paper's stacked denoising pretraining,
            then `finetune_epochs` end to end). End to end is the default: on the MNIST test split
            its autoencoder + k-means start was 0.735 ACC against the layer-wise 0.649 (median
            of 3 seeds); on digits layer-wise started higher, in twice the time
            (`keras_cluster.defaults.PRETRAIN`).
        autoencoder_weights: path of a `.weights.h5` file of an autoencoder with the same
            feature count and `dims` (`estimator.autoencoder_.save_weights(path)` after a fit with
            `max_iter=0`): its weights are loaded and pretraining is skipped. Default None.
        pretrain_epochs: epochs for each layer pair of the layer-wise pretraining.
        finetune_epochs: epochs of end-to-end autoencoder training, or `"auto"` (default):
            about 1,200 optimizer steps and at least 50 epochs (`keras_cluster.defaults`).
        pretrain_optimizer: optimizer of the pretraining (default Adam(1e-3)).
        dropout: corruption rate of the layer-wise denoising pretraining.
        pretrain_corruption: dropout rate of the end-to-end pretraining batches, in [0, 1): each
            entry takes its feature's mean with this probability (in normalized units, so any
            affine rescaling of X corrupts alike) and the autoencoder reconstructs the corrupted
            rows. Default 0; `keras_cluster.defaults.PRETRAIN_CORRUPTION` has the measurements.
        optimizer: optimizer of the clustering stage (default SGD(0.01, momentum 0.9), the paper's).
        batch_size: mini-batch size of every stage.
        update_interval: batches between checks of `tol` on the whole dataset, and between
            refreshes of P with `target="full"` (one Keras epoch of the clustering stage).
            70, half the paper's 140: on MNIST's test split 140 left one seed of three below
            ACC 0.75, and on digits 35 stopped on `tol` before NMI reached 0.80 (measured with
            `target="full"`; README).
        tol: stop when the fraction of changed assignments falls below it.
        max_iter: maximum number of clustering batches.
        target: `"full"` (the paper: P over the whole dataset, refreshed every
            `update_interval` batches), `"batch"` (P from each batch's own Q, no gradient
            through P), or `"auto"` (default): `"batch"`, and `"full"` with `augmentation`, where
            P must come from the clean rows. Both ways stop on `tol`, checked on the whole
            dataset every `update_interval` batches. `"batch"` ended higher from the same
            pretrainings (`keras_cluster.defaults.TARGET` has the figures).
        init: the initial centroids: `"kmeans"` (the paper: k-means on the embedding),
            `"gmm"` (the partition of a full-covariance Gaussian mixture started from that
            k-means: on the MNIST test split DEC's median ACC 0.853 against 0.809;
            `keras_cluster.defaults.KMEANS_N_INIT` has the figures), `"manifold"` (the
            centroids of N2D's UMAP + k-means partition of the embedding; needs the umap
            extra), or an array `(n_clusters, dims[-1])`.
        augmentation: optional Keras layer or model applied in training mode to every
            pretraining and self-training batch seen as images of `image_shape` (DEC-DA: e.g.
            `keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1),
            keras.layers.RandomRotation(10 / 360)])`); P is computed on the clean X. A Keras
            random layer draws its seed when it is created, not from `random_state`: give it
            `seed=` (e.g. `RandomRotation(10 / 360, seed=0)`) for a reproducible fit.
        image_shape: shape of one sample as an image, e.g. `(28, 28, 1)`; with `augmentation`.
        kmeans_n_init: k-means restarts for the centroid initialisation.
        callbacks: extra Keras callbacks for the clustering stage's `fit`.
        backup_dir: optional folder for a backup of the fit, so that a fit killed (SIGKILL,
            preemption) and started again with the same arguments resumes and ends with the
            labels of an uninterrupted fit (`keras_cluster.estimators.backup`): pretraining and
            self-training by `keras.callbacks.BackupAndRestore` (weights, optimizer state, the
            centroids, P, the label history and the counters of `DECSelfTraining`), the initial
            centroids by a checkpoint. Removed when the fit succeeds; nothing else is written.
            With `augmentation` the random draws after a restart differ.
        random_state: seed of Python, NumPy, TensorFlow and k-means; None leaves them alone.
        verbose: 0 silent, 1 stage summaries and updates, 2 Keras progress too.

    Attributes:
        labels_: hard assignment of each training sample.
        cluster_centers_: centroids in the embedding, `(n_clusters, dims[-1])`.
        model_: Keras model `X -> q`, ready for `.save()` and `.export()`. A saved `.keras`
            file loads with `keras.models.load_model(path)` (`safe_mode=True`: no Lambda
            layers) in any process that has run `import keras_cluster`; no custom_objects.
        encoder_: Keras model `X -> z`.
        autoencoder_: Keras model `X -> X_hat`.
        kmeans_: the k-means fitted on the pretrained embedding (`init="kmeans"` or `"gmm"`).
        gaussian_mixture_: the Gaussian mixture of `init="gmm"` (None if its fit failed).
        init_labels_: the partition the centroids started from.
        history_: the clustering stage's `History`.
        n_iter_: clustering batches run; converged_: whether `tol` was reached.
        pretrain_epochs_: end-to-end pretraining epochs run (0 with `autoencoder_weights`).
        target_: the target distribution used, `"full"` or `"batch"` (`target` resolved).
        fit_time_: seconds spent in `fit`.

    Example:

    >>> from keras_cluster.datasets import load_digits
    >>> X, y = load_digits()
    >>> dec = DEC(n_clusters=10, dims=(32, 10), finetune_epochs=3, max_iter=20,
    ...           update_interval=10, random_state=0, verbose=0).fit(X)
    >>> dec.labels_.shape, dec.predict_proba(X[:2]).shape, dec.transform(X[:2]).shape
    ((1797,), (2, 10), (2, 10))

    References:
        Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering Analysis", ICML 2016.
        Guo, Zhu, Liu & Yin, "Deep Embedded Clustering with Data Augmentation", ACML 2018.
    """

    _reconstruction = False
    _streams = True
    _parameter_constraints = {
        **BaseDeepClusterer._parameter_constraints,
        **PRETRAINING_CONSTRAINTS,
        "alpha": [POSITIVE],
        "autoencoder_weights": [None, WEIGHTS_FILE],
        "optimizer": [None, OPTIMIZER],
        "update_interval": [POSITIVE_INT],
        "tol": [UNIT_INTERVAL],
        "max_iter": [NON_NEGATIVE_INT],
        "target": [Options("auto", *TARGETS)],
        **INIT_CONSTRAINTS,
        "callbacks": [None, CALLBACKS],
    }

    def __init__(
        self,
        n_clusters=10,
        *,
        dims=defaults.DIMS,
        alpha=1.0,
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
        update_interval=defaults.UPDATE_INTERVAL,
        tol=defaults.TOL,
        max_iter=defaults.MAX_ITER,
        target=defaults.TARGET,
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
        self.alpha = alpha
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
        self.update_interval = update_interval
        self.tol = tol
        self.max_iter = max_iter
        self.target = target
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

    def _default_optimizer(self):
        return keras.optimizers.SGD(
            learning_rate=defaults.SELF_TRAINING_LEARNING_RATE,
            momentum=defaults.SELF_TRAINING_MOMENTUM,
        )

    def _resolved_target(self):
        """`target`, with `"auto"` resolved: `"full"` with `augmentation`, else `"batch"`."""
        if self.target != "auto":
            return self.target
        return "full" if self.augmentation is not None else "batch"

    def _clustering_loss(self):
        return DECLoss(target=self.target_)

    def _compile(self, model):
        compile_prebuilt(
            model,
            optimizer=fresh_optimizer(self.optimizer, self._default_optimizer),
            loss=self._clustering_loss(),
        )

    def _fit(self, source):
        self.target_ = self._resolved_target()
        centroids = self._initial_centroids(source)
        model = self._build_training_model()
        model.get_layer(CLUSTERING_OUTPUT).set_centroids(centroids)
        self._compile(model)
        adapt_for_multi_worker(model)
        self_training = DECSelfTraining(
            source, self.n_clusters, self.update_interval, self.tol, max_iter=self.max_iter
        )
        dataset = self_training.make_dataset(
            self.batch_size,
            reconstruction=self._reconstruction,
            seed=self.random_state,
            augmentation=augmenter(self.augmentation, self.image_shape, source.n_features)
            if self.augmentation is not None
            else None,
            reconstruction_target=functools.partial(normalize, self.autoencoder_),
        )
        epochs = math.ceil(self.max_iter / self.update_interval)
        every = f"every {self.update_interval} batches"
        refresh = "P from each batch" if self.target_ == "batch" else f"P over X {every}"
        self._log(f"Self-training: at most {self.max_iter} batches, {refresh}, tol checked {every}")
        self.history_ = model.fit(
            dataset,
            steps_per_epoch=self.update_interval,
            epochs=epochs,
            callbacks=[
                self_training,
                *resumable_fit_callbacks(self.backup_dir, "self_training"),
                *self._progress("self-training"),
                *(self.callbacks or []),
            ],
            shuffle=False,  # the dataset shuffles itself
            verbose=self._keras_verbose,
        )
        self.converged_ = self_training.converged
        self.n_iter_ = self_training.n_batches
        self.model_ = assignment_model(model)
        self.cluster_centers_ = keras.ops.convert_to_numpy(
            model.get_layer(CLUSTERING_OUTPUT).centroids
        )
        self.labels_ = self._predict_rows(self.model_, source).argmax(1)
        self._log(
            f"Done: {self.n_iter_} batches, converged={self.converged_}, "
            f"cluster sizes {np.bincount(self.labels_, minlength=self.n_clusters).tolist()}"
        )

    def _build_training_model(self):
        return build_dec_model(self.encoder_, self.n_clusters, alpha=self.alpha)


@keras_cluster_export("keras_cluster.estimators.IDEC")
class IDEC(DEC):
    """Improved DEC (Guo et al. 2017): DEC that keeps the decoder and its reconstruction loss.

    The clustering stage minimises, per sample, the two terms of the reference code

    ```
    L_i = (1/d) ||x_i - x_hat_i||^2 + gamma * KL(P_i || Q_i)
    ```

    (squared error averaged over the `d` features, in normalized units, as XifengGuo/IDEC's
    `'mse'`), so the embedding keeps the local structure the autoencoder learned while the
    clusters sharpen. The paper writes the sum over features; with `d = 784` that sum outweighs
    the KL term and IDEC ended below its own k-means start on MNIST.

    Args:
        gamma: weight of the clustering loss, default 10. Larger values keep less of the
            reconstruction's structure; `gamma -> inf` is DEC. The paper and its code use 0.1
            with Adam(1e-3); started from the same pretrainings, that setting gave lower ACC and
            NMI on digits, lower NMI on the MNIST test split, and ran into `max_iter` there
            (`keras_cluster.defaults.IDEC_GAMMA` has the figures).
        optimizer: default `SGD(0.01 / max(gamma, 1), momentum=0.9)`: the heavier of the two
            terms takes DEC's step (`keras_cluster.defaults.idec_learning_rate`).

    The other arguments are those of `DEC`.

    References:
        Guo, Gao, Liu & Yin, "Improved Deep Embedded Clustering with Local Structure
        Preservation", IJCAI 2017.
    """

    _reconstruction = True
    _parameter_constraints = {**DEC._parameter_constraints, "gamma": [NON_NEGATIVE]}

    def __init__(
        self,
        n_clusters=10,
        *,
        gamma=defaults.IDEC_GAMMA,
        dims=defaults.DIMS,
        alpha=1.0,
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
        update_interval=defaults.UPDATE_INTERVAL,
        tol=defaults.TOL,
        max_iter=defaults.MAX_ITER,
        target=defaults.TARGET,
        init="kmeans",
        augmentation=None,
        image_shape=None,
        kmeans_n_init=defaults.KMEANS_N_INIT,
        callbacks=None,
        backup_dir=None,
        random_state=None,
        verbose=1,
    ):
        super().__init__(
            n_clusters,
            dims=dims,
            alpha=alpha,
            normalization=normalization,
            pretrain=pretrain,
            autoencoder_weights=autoencoder_weights,
            pretrain_epochs=pretrain_epochs,
            finetune_epochs=finetune_epochs,
            pretrain_optimizer=pretrain_optimizer,
            dropout=dropout,
            pretrain_corruption=pretrain_corruption,
            optimizer=optimizer,
            batch_size=batch_size,
            update_interval=update_interval,
            tol=tol,
            max_iter=max_iter,
            target=target,
            init=init,
            augmentation=augmentation,
            image_shape=image_shape,
            kmeans_n_init=kmeans_n_init,
            callbacks=callbacks,
            backup_dir=backup_dir,
            random_state=random_state,
            verbose=verbose,
        )
        self.gamma = gamma

    def _default_optimizer(self):
        return keras.optimizers.SGD(
            learning_rate=defaults.idec_learning_rate(self.gamma),
            momentum=defaults.SELF_TRAINING_MOMENTUM,
        )

    def _compile(self, model):
        compile_prebuilt(
            model,
            optimizer=fresh_optimizer(self.optimizer, self._default_optimizer),
            loss={
                CLUSTERING_OUTPUT: self._clustering_loss(),
                RECONSTRUCTION_OUTPUT: "mse",
            },
            # The reference code's weighting (XifengGuo/IDEC): per-element MSE (in normalized
            # units) + gamma * KL. The paper's per-sample sum of squares would multiply the
            # reconstruction by the feature count and let it outweigh the clustering term.
            loss_weights={CLUSTERING_OUTPUT: self.gamma, RECONSTRUCTION_OUTPUT: 1.0},
        )

    def _build_training_model(self):
        return build_idec_model(self.autoencoder_, self.encoder_, self.n_clusters, alpha=self.alpha)
