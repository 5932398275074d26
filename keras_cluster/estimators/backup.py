"""The backup of an estimator's fit under `backup_dir`: one folder per stage, Keras's own files.

A fit runs in stages, each resumable after a kill (SIGKILL, preemption):

- `pretraining` (and `layerwise_<i>` for the layer-wise pairs): `model.fit` with
  `keras.callbacks.BackupAndRestore` writing the weights, the optimizer state and the epoch at
  the end of every epoch. The backup is kept when the stage ends (`delete_checkpoint=False`), so a
  restart finds the stage complete, restores its weights and runs no epoch again.
- `initialization`: the initial centroids and the partition they came from (k-means on the
  embedding), as a TensorFlow checkpoint, so a restart does not redraw them.
- the clustering stage (`self_training`, `clustering`): `model.fit` with `BackupAndRestore`, the
  model's weights holding the centroids and, for DEC/IDEC, `DECSelfTraining`'s state (P, the label
  history, the batch and update counters).

Every stage numbers its batches from the start of training (`BatchPosition`), so a resumed fit
draws the batches that the interrupted one would have drawn, and ends with the same labels. When
the fit succeeds the stage folders are removed, and `backup_dir` too when it is left empty.
"""

import os
import shutil

import numpy as np
import tensorflow as tf

from keras_cluster.validation import Satisfies

INITIALIZATION = "initialization"
STAGES = ("pretraining", INITIALIZATION, "self_training", "clustering")


def _is_folder_path(value):
    return (
        isinstance(value, (str, os.PathLike))
        and bool(os.fspath(value))
        and not os.path.isfile(value)
    )


BACKUP_DIR = Satisfies(
    _is_folder_path, "the path of a folder (existing or not) for the fit's backup"
)


def _initialization_checkpoint(n_clusters, n_features, n_rows):
    centroids = tf.Variable(tf.zeros((n_clusters, n_features)), name="centroids")
    labels = tf.Variable(tf.zeros((n_rows,), tf.int64), name="labels")
    return tf.train.Checkpoint(centroids=centroids, labels=labels), centroids, labels


def restore_initialization(backup_dir, n_clusters, n_features, n_rows):
    """`(centroids, labels)` saved by `save_initialization`, or None when there is none."""
    if backup_dir is None:
        return None
    directory = os.path.join(os.fspath(backup_dir), INITIALIZATION)
    latest = tf.train.latest_checkpoint(directory) if os.path.isdir(directory) else None
    if latest is None:
        return None
    checkpoint, centroids, labels = _initialization_checkpoint(n_clusters, n_features, n_rows)
    checkpoint.restore(latest).assert_existing_objects_matched()
    return centroids.numpy(), labels.numpy()


def save_initialization(backup_dir, centroids, labels):
    """Write the initial centroids and partition to `backup_dir/initialization`."""
    if backup_dir is None:
        return
    centroids = np.asarray(centroids, dtype=np.float32)
    checkpoint, centroids_variable, labels_variable = _initialization_checkpoint(
        *centroids.shape, len(labels)
    )
    centroids_variable.assign(centroids)
    labels_variable.assign(np.asarray(labels, dtype=np.int64))
    directory = os.path.join(os.fspath(backup_dir), INITIALIZATION)
    # The manager writes the `checkpoint` index last: a kill while writing leaves no checkpoint.
    tf.train.CheckpointManager(checkpoint, directory, max_to_keep=1).save()


def remove_backup(backup_dir):
    """Remove the stage folders of a finished fit, and `backup_dir` when it is left empty."""
    if backup_dir is None:
        return
    root = os.fspath(backup_dir)
    if not os.path.isdir(root):
        return
    for name in os.listdir(root):
        if name in STAGES or name.startswith("layerwise_"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    if not os.listdir(root):
        os.rmdir(root)
