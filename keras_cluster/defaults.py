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
# (0.802 against 0.784, DEC 0.839 against 0.831) in about twice the time (DEC with target "full").
# Nor are the pretraining inputs corrupted (`augmentation=keras.layers.Dropout(0.2)` on the
# pretraining alone, each batch reconstructing its corrupted rows): DEC from such a pretraining
# rose on the MNIST test split on all three seeds, ACC (NMI) 0.825 / 0.822 / 0.833 (0.806 / 0.797
# / 0.809) against 0.806 / 0.809 / 0.816 (0.784 / 0.784 / 0.793), but fell on digits on two,
# 0.865 / 0.735 / 0.744 (0.850 / 0.799 / 0.808) against 0.834 / 0.802 / 0.837 (0.855 / 0.832 /
# 0.860) (`python -m benchmarks.quality.dec_self_training_sweep --pretrain-dropout 0.2`).
# At 0.1: MNIST test split 0.816 / 0.824 / 0.851 (0.833 / 0.800 / 0.827), all three above the
# defaults; digits 0.828 / 0.873 / 0.856 (0.845 / 0.853 / 0.844), the start above the defaults'
# on all three seeds; IDEC further below DEC on the MNIST test split (0.805 / 0.819 / 0.834).
# Not adopted: on MNIST 70k (seeds 0-4, `--data mnist-all --pretrain-dropout 0.1 --variant ''
# --variant idec: --variant n2d:`) N2D was unchanged, 0.980 / 0.980 / 0.979 / 0.980 / 0.978
# (mean 0.9794 against 0.9797), DEC's median too (0.882) but spread wider, 0.869 / 0.884 / 0.953
# / 0.791 / 0.882 against 0.871 / 0.882 / 0.886 / 0.884 / 0.881 (mean 0.876 against 0.881),
# IDEC's median fell (0.869 against 0.876), and the AE + k-means start was lower on 3 of 5 by
# 0.007-0.085, level on one (one sample in 70,000) and higher on one.
# Nor does the pretraining take Adam(3e-3) decayed to 0 along a cosine over its steps: from seeds
# 0-2, digits rose, DEC ACC (NMI) 0.855 / 0.858 / 0.846 (0.822 / 0.839 / 0.828) against 0.834 /
# 0.802 / 0.837 (0.855 / 0.832 / 0.860), IDEC 0.858 / 0.860 / 0.847, but N2D fell, 0.886 / 0.880 /
# 0.915 against 0.904 / 0.925 / 0.904, and on the MNIST test split everything fell: the AE + k-means
# start 0.599 / 0.719 / 0.670 against 0.725 / 0.735 / 0.738, DEC 0.676 / 0.806 / 0.735 against 0.806
# / 0.809 / 0.816, N2D 0.791 / 0.936 / 0.930 against 0.957 / 0.954 / 0.960 (`python -m benchmarks
# --suite full --only dec_self_training_sweep-pretrain-adam-3e-3-cosine-digits
# dec_self_training_sweep-pretrain-adam-3e-3-cosine-mnist-test`).
PRETRAIN = "end_to_end"
# Dropout rate of the end-to-end pretraining batches (`pretrain_corruption`; a dropped entry takes
# its feature's mean, `keras_cluster.models.autoencoder.corrupter`, the corruption that an affine
# rescaling of X does not change): 0, none. At 0.1, from seeds 0-2 (`python -m
# benchmarks.quality.dec_self_training_sweep --pretrain-dropout 0.1 --pretrain-corruption mean
# --variant '' --variant idec: --variant n2d:`), ACC (NMI) against the defaults' rows of
# `clustering_quality`: digits DEC 0.861 / 0.803 / 0.836 (0.854 / 0.834 / 0.858) against
# 0.834 / 0.802 / 0.837 (0.855 / 0.832 / 0.860), N2D 0.931 / 0.898 / 0.945 against 0.904 /
# 0.925 / 0.904; the MNIST test split lower: the start 0.687 / 0.655 / 0.748 against 0.725 /
# 0.735 / 0.738, DEC 0.776 / 0.751 / 0.842 (0.784 / 0.780 / 0.815) against 0.806 / 0.809 /
# 0.816 (0.784 / 0.784 / 0.793), N2D 0.954 / 0.958 / 0.958 against 0.957 / 0.954 / 0.960.
# IDEC ended below DEC on 4 of the 6. On pixels, where 0 is the background, dropping entries to
# 0 (above) helped the MNIST test split and dropping them to the mean did not.
PRETRAIN_CORRUPTION = 0.0
# Epochs of each layer pair when `pretrain="layerwise"`.
LAYERWISE_EPOCHS = 30
# Epochs of end-to-end autoencoder training: "auto" gives about PRETRAIN_STEPS optimizer steps and
# at least MIN_PRETRAIN_EPOCHS epochs (`pretrain_epochs_for`): 150 epochs on digits (8 steps an
# epoch), 50 on the MNIST test split (40 steps). Measured: digits with 300 epochs in place of 150
# gave DEC 0.828 / 0.795 / 0.828 (seeds 0-2) against 0.835 / 0.795 / 0.831; the MNIST test split
# had AE + UMAP + k-means 0.954 after 50 epochs and 0.933 after 150 (seed 0), and AE + k-means no
# better after 100 epochs than after 10. Fewer steps on digits (only sets of under about 6,000
# rows would change: larger ones take MIN_PRETRAIN_EPOCHS), from seeds 0-2 with the defaults
# otherwise, ACC per seed: 75 epochs DEC 0.838 / 0.797 / 0.835, N2D 0.904 / 0.939 / 0.897;
# 100 epochs DEC 0.816 / 0.802 / 0.836, N2D 0.897 / 0.929 / 0.897; 150 (the default) DEC
# 0.834 / 0.802 / 0.837, N2D 0.904 / 0.925 / 0.904. DEC's digits median stays within
# 0.816-0.835 at 75, 100 and 150 epochs (0.828 at 300, with target "full", above): its k-means
# start splits the 1s into two clusters and merges the 3s with the 9s (seed 0), a partition
# self-training keeps. Command: `python -m benchmarks --suite full --only
# dec_self_training_sweep-pretrain-epochs-75-digits
# dec_self_training_sweep-pretrain-epochs-100-digits`.
FINETUNE_EPOCHS = "auto"
PRETRAIN_STEPS = 1200
MIN_PRETRAIN_EPOCHS = 50
# Corruption (dropout) rate of the layer-wise denoising pairs: Xie et al. 2016.
DROPOUT = 0.2
# k-means restarts for the centroid initialisation: Xie et al. 2016.
# Other starts from the same pretrained embeddings (seeds 0-2), DEC ACC (NMI) per seed, against
# k-means's 0.834 / 0.802 / 0.837 (0.855 / 0.832 / 0.860) on digits and 0.806 / 0.809 / 0.816
# (0.784 / 0.784 / 0.793) on the MNIST test split:
# - `init="gmm"` (a full-covariance Gaussian mixture started from the k-means): digits 0.825 /
#   0.835 / 0.837 (0.851 / 0.856 / 0.859); the MNIST test split 0.794 / 0.853 / 0.858 (0.787 /
#   0.826 / 0.829), median 0.853 against 0.809; its start 0.715 / 0.813 / 0.822 against
#   0.725 / 0.735 / 0.738; IDEC from it 0.803 / 0.850 / 0.845 (median 0.845, below DEC's as from
#   k-means: 0.808 against 0.809). On MNIST 70k (seed 0; both stopped at MAX_ITER): DEC 0.974 (NMI
#   0.930) against 0.871 (0.862), IDEC 0.973 against 0.869, from a start of 0.899 against 0.780.
#   DCN from it on the MNIST test split: 0.756 / 0.780 / 0.771 (median 0.771) against 0.752
#   (`python -m benchmarks --suite full --only clustering_quality-mnist-test-gmm`).
# - k-means on the PCA-whitened embedding: digits 0.903 / 0.850 / 0.829, the MNIST test split
#   0.751 / 0.728 / 0.858 (NMI lower on both: 0.862 / 0.824 / 0.819, 0.757 / 0.778 / 0.827).
# - k-means on the rows scaled to unit length: digits 0.833 / 0.800 / 0.838, the MNIST test
#   split 0.766 / 0.705 / 0.786.
# Commands: `python -m benchmarks --suite full --only dec_self_training_sweep-starts-digits
# dec_self_training_sweep-starts-mnist-test` (and `dec_self_training_sweep-starts-gmm-mnist-test`
# and `-mnist-all` for IDEC and MNIST 70k). The default stays "kmeans" (the papers') until
# "gmm" is measured on more MNIST 70k seeds and on the tabular sets.
KMEANS_N_INIT = 20
# For a streamed X (tf.data / PyDataset), k-means (and init="gmm"'s mixture) is fitted on a
# uniform sample of at most this many embedded rows (the embedding, n x dims[-1], is held; X never
# is); every row then takes its nearest centroid (component). 100,000 rows of a 10-d embedding:
# seconds per k-means run.
KMEANS_STREAM_SAMPLE = 100_000
# N2D's UMAP of the embedding: neighbourhood size. 30, not N2D's 20: from the same pretrained
# embeddings (default pretraining, seeds 0-2, each with 3 UMAP seeds), digits ACC median 0.923 /
# mean 0.917 against 0.886 / 0.901 with 20; MNIST test split (seed 0) 0.955 against 0.954.
UMAP_N_NEIGHBORS = 30
# DEC self-training: P refreshed every 70 batches, stop when < 0.1% of labels change
# (`tol`, Xie et al. 2016), at most 2000 batches. On digits, from the same default pretrainings
# (seeds 0-2, P over the whole dataset), ACC per seed with 35 / 70 / 140 batches between
# refreshes: 0.831 / 0.835 / 0.825, 0.797 / 0.795 / 0.795, 0.831 / 0.831 / 0.829 (medians 0.831,
# 0.831, 0.825), 561-701, 841-1051 and 1261-1681 batches run. Command:
# `python -m benchmarks.quality.dec_self_training_sweep --data digits
# --variant "target='full',update_interval=35"` (and 70, 140; benchmarks/RESULTS.md). On MNIST
# 70k (seed 1) DEC and IDEC both stopped at MAX_ITER (about 7 epochs, not converged); IDEC given
# 6000 converged after 3711 batches at 0.867 ACC, against 0.866 at 2000: the budget is not what
# keeps IDEC below DEC there (`--data mnist-all --seeds 1 --variant "idec:max_iter=6000"`).
UPDATE_INTERVAL = 70
TOL = 0.001
MAX_ITER = 2000
# DEC's target distribution: "auto" is P from each batch's own Q ("batch"), and P over the whole
# dataset ("full", the paper's) with augmentation, where P must come from the clean rows. From
# the same default pretrainings (seeds 0-2), "batch" against "full", ACC (NMI) per seed: the MNIST
# test split 0.806 / 0.809 / 0.816 (0.784 / 0.784 / 0.793) against 0.795 / 0.797 / 0.811
# (0.754 / 0.766 / 0.774); digits 0.834 / 0.802 / 0.837 (0.855 / 0.832 / 0.860) against
# 0.835 / 0.795 / 0.831 (0.857 / 0.819 / 0.847); fewer batches on 4 of the 6. Command:
# `python -m benchmarks.quality.dec_self_training_sweep --data mnist-test --variant "target='full'"
# --variant "target='batch'" --variant "idec:target='batch'"` (and `--data digits`).
TARGET = "auto"
# DEC's self-training optimizer: SGD(0.01, momentum 0.9), Xie et al. 2016 (XifengGuo/DEC-keras).
# From the same default pretrainings (seeds 0-2), ACC with SGD(0.003) / SGD(0.01) / SGD(0.03):
# digits 0.833 / 0.834 / 0.833, 0.797 / 0.802 / 0.800, 0.829 / 0.837 / 0.837; the MNIST test split
# (0.01 / 0.03) 0.806 / 0.804, 0.809 / 0.809, 0.816 / 0.816. 0.03 converged in fewer batches:
# 0.46-0.55 as many on digits (421-491 against 771-1051), 0.48-0.80 as many on the MNIST test split
# (771-841 against 1051-1611); on MNIST 70k (seed 0) both ran into MAX_ITER, 0.870 against 0.871.
# IDEC given 0.003 (its gamma * KL at 0.03) ended lower on the MNIST test split, median 0.805
# against 0.808; IDEC with Adam(1e-3) and gamma 1 lower on digits, 0.827 / 0.799 / 0.829 against
# 0.834 / 0.802 / 0.836. Not adopted: no ACC gained, and the augmented (DEC-DA) and 70k figures were
# measured with 0.01. Command: `python -m benchmarks --suite full --only
# dec_self_training_sweep-lr-digits dec_self_training_sweep-lr-mnist-test
# dec_self_training_sweep-lr-mnist-all`.
SELF_TRAINING_LEARNING_RATE = 0.01
SELF_TRAINING_MOMENTUM = 0.9
# IDEC minimises MSE + gamma * KL with SGD(SELF_TRAINING_LEARNING_RATE / max(gamma, 1),
# momentum SELF_TRAINING_MOMENTUM) (`idec_learning_rate`): the heavier term takes DEC's step, and
# gamma = 10 gives the reconstruction a tenth of it. Not the reference's Adam(1e-3) with
# gamma = 0.1 (XifengGuo/IDEC): from the same default pretrainings (seeds 0-2, medians,
# `python -m benchmarks.quality.dec_self_training_sweep --variant "idec:target='full'"
# --variant "idec:target='full',adam_lr=0.001,gamma=0.1"`, rerun with target "full" explicit),
# digits ACC / NMI 0.830 / 0.848 against 0.817 / 0.813, the MNIST test split 0.793 / 0.761
# against 0.795 / 0.747 (the reference's settings ran into MAX_ITER on every MNIST seed; these
# converged). A heavier reconstruction lowered ACC on both (gamma 3 with SGD(0.003): 0.828 and
# 0.788); DEC itself had 0.831 and 0.797 (all with target "full"). With the per-batch P of
# TARGET, from the same pretrainings, medians ACC (NMI): digits IDEC 0.8336 (0.8555) against
# DEC 0.8336 (0.8554), the MNIST test split 0.8078 (0.7800) against 0.8087 (0.7842); gamma 30
# (variant "idec:target='batch',gamma=30.0") gave 0.8325 (0.8524) and 0.8093 (0.7845): no
# better on both, so gamma stays 10.
IDEC_GAMMA = 10.0


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


def idec_learning_rate(gamma):
    """IDEC's default SGD learning rate for `gamma` (see `IDEC_GAMMA`).

    Formula: `SELF_TRAINING_LEARNING_RATE / max(gamma, 1)`: the step of `gamma * KL` is DEC's when
    `gamma >= 1`, and the reconstruction's is DEC's when `gamma < 1`.

    Example:

    >>> idec_learning_rate(10.0), idec_learning_rate(0.1)
    (0.001, 0.01)
    """
    return SELF_TRAINING_LEARNING_RATE / max(gamma, 1.0)
