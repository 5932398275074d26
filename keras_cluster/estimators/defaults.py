"""The defaults the deep clustering estimators share, each with where it comes from.

One set for every dataset: the estimators' signatures read these names, and the benchmarks in
`benchmarks/` measured them (see `benchmarks/RESULTS.md` for the figures).
"""

# Encoder widths d-500-500-2000-10: Xie et al. 2016 (DEC), kept by IDEC, DCN and N2D.
DIMS = (500, 500, 2000, 10)
# Mini-batch size of every stage: Xie et al. 2016.
BATCH_SIZE = 256
# Inputs centred per feature and divided by one common scale inside the model
# (`keras_cluster.models.normalization`): any affine rescaling of X trains the same way.
NORMALIZATION = "global"
# End-to-end pretraining with Adam(1e-3) on normalized inputs (`default_pretrain_optimizer`):
# no divergence on any affine scaling; layer-wise stacked denoising stays available.
PRETRAIN = "end_to_end"
# Epochs of each layer pair when `pretrain="layerwise"`.
LAYERWISE_EPOCHS = 30
# Epochs of end-to-end autoencoder training.
FINETUNE_EPOCHS = 150
# Corruption (dropout) rate of the layer-wise denoising pairs: Xie et al. 2016.
DROPOUT = 0.2
# k-means restarts for the centroid initialisation: Xie et al. 2016.
KMEANS_N_INIT = 20
# DEC self-training: P refreshed every 70 batches, stop when < 0.1% of labels change
# (`tol`, Xie et al. 2016), at most 2000 batches.
UPDATE_INTERVAL = 70
TOL = 0.001
MAX_ITER = 2000
