"""The defaults of the deep clustering pieces, each with where it comes from.

One set for every dataset: the estimators' signatures, the autoencoder builder and pretraining,
and `DECSelfTraining` read these names, and the benchmarks in `benchmarks/quality/` measured them
(see `benchmarks/RESULTS.md`). A leaf module: it imports nothing of the package.
"""

# Encoder widths d-500-500-2000-10: Xie et al. 2016 (DEC), kept by IDEC, DCN and N2D.
DIMS = (500, 500, 2000, 10)
# Mini-batch size of every stage: Xie et al. 2016.
BATCH_SIZE = 256
# Inputs centred per feature and divided by one common scale inside the model
# (`keras_cluster.models.normalization`): any affine rescaling of X trains the same way.
NORMALIZATION = "global"
# End-to-end pretraining with Adam(1e-3) on normalized inputs (`default_pretrain_optimizer`):
# no divergence on any affine scaling. Layer-wise stacked denoising (Xie et al.) stays available
# but is not the default: on the MNIST test split (seeds 0-2, medians) its AE + k-means start was
# 0.649 ACC and DEC 0.743, against 0.735 and 0.797 end to end; on digits it started higher
# (0.802 against 0.784, DEC 0.839 against 0.831) in about twice the time.
PRETRAIN = "end_to_end"
# Epochs of each layer pair when `pretrain="layerwise"`.
LAYERWISE_EPOCHS = 30
# Epochs of end-to-end autoencoder training: "auto" gives about PRETRAIN_STEPS optimizer steps and
# at least MIN_PRETRAIN_EPOCHS epochs (`pretrain_epochs_for`): 150 epochs on digits (8 steps an
# epoch), 50 on the MNIST test split (40 steps). Measured: digits with 300 epochs in place of 150
# gave DEC 0.828 / 0.795 / 0.828 (seeds 0-2) against 0.835 / 0.795 / 0.831; the MNIST test split
# had AE + UMAP + k-means 0.954 after 50 epochs and 0.933 after 150 (seed 0), and AE + k-means no
# better after 100 epochs than after 10.
FINETUNE_EPOCHS = "auto"
PRETRAIN_STEPS = 1200
MIN_PRETRAIN_EPOCHS = 50
# Corruption (dropout) rate of the layer-wise denoising pairs: Xie et al. 2016.
DROPOUT = 0.2
# k-means restarts for the centroid initialisation: Xie et al. 2016.
KMEANS_N_INIT = 20
# For a streamed X (tf.data / PyDataset), k-means initialises the centroids on a uniform sample of
# at most this many embedded rows (the embedding, n x dims[-1], is held; X never is); every row
# then takes its nearest centroid. 100,000 rows of a 10-d embedding: seconds per k-means run.
KMEANS_STREAM_SAMPLE = 100_000
# N2D's UMAP of the embedding: neighbourhood size. 30, not N2D's 20: from the same pretrained
# embeddings (default pretraining, seeds 0-2, each with 3 UMAP seeds), digits ACC median 0.923 /
# mean 0.917 against 0.886 / 0.901 with 20; MNIST test split (seed 0) 0.955 against 0.954.
UMAP_N_NEIGHBORS = 30
# DEC self-training: P refreshed every 70 batches, stop when < 0.1% of labels change
# (`tol`, Xie et al. 2016), at most 2000 batches.
UPDATE_INTERVAL = 70
TOL = 0.001
MAX_ITER = 2000


def pretrain_epochs_for(finetune_epochs, n_samples, batch_size):
    """The end-to-end epochs that `finetune_epochs` means for `n_samples` rows.

    Formula for `"auto"`: `max(MIN_PRETRAIN_EPOCHS, ceil(PRETRAIN_STEPS / ceil(n / batch)))`; an
    integer is taken as it is.

    Example:

    >>> pretrain_epochs_for("auto", 1797, 256), pretrain_epochs_for("auto", 10000, 256)
    (150, 50)
    """
    if finetune_epochs != "auto":
        return finetune_epochs
    steps_per_epoch = -(-n_samples // batch_size)
    return max(MIN_PRETRAIN_EPOCHS, -(-PRETRAIN_STEPS // steps_per_epoch))
