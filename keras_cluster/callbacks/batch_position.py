"""Where a `fit` starts in a stream of numbered batches, also when it resumes from a backup."""

import os

import keras

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import Satisfies, validate

START = Satisfies(
    lambda value: (
        isinstance(value, keras.Variable) and tuple(value.shape) == () and "int" in str(value.dtype)
    ),
    "a scalar integer keras.Variable (e.g. `batch_start()`)",
)


@keras_cluster_export("keras_cluster.callbacks.BatchPosition")
class BatchPosition(keras.callbacks.Callback):
    """Set `start` to the number of the first batch this `fit` trains on.

    At the first epoch of every `fit`, `start = epoch * steps_per_epoch`: 0 for a fresh fit, and
    the batches already trained on when `keras.callbacks.BackupAndRestore` (or `initial_epoch`)
    resumes at a later epoch. A dataset that numbers its batches from `start` (see
    `keras_cluster.row_source.RowSource.training_batches`) then draws after a kill the batches the
    interrupted fit would have drawn next.

    Args:
        start: scalar integer variable read by the dataset when its first batch is drawn.

    Example:

    ```python
    start = keras.Variable(0, dtype="int64", trainable=False)
    data = RowSource(x).training_batches(256, start, seed=0)
    model.fit(data.map(lambda rows, _: (rows, rows)), steps_per_epoch=10, epochs=50,
              callbacks=[BatchPosition(start), keras.callbacks.BackupAndRestore(path)])
    ```
    """

    def __init__(self, start):
        super().__init__()
        validate("start", start, START)
        self.start = start

    def on_train_begin(self, logs=None):
        self._first_epoch = True

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch:
            self._first_epoch = False
            self.start.assign(epoch * (self.params.get("steps") or 0))


def batch_start():
    """A scalar int64 variable: the number of the first batch of a `fit` (`BatchPosition`)."""
    return keras.Variable(0, dtype="int64", trainable=False, name="batch_start")


def resumable_fit_callbacks(backup_dir, stage, start=None):
    """`[BatchPosition(start)]` (with `start`), plus a `BackupAndRestore` in `backup_dir/stage`.

    The backup is kept when the `fit` ends (`delete_checkpoint=False`): a restart finds the stage
    complete, restores its weights and optimizer state and trains no epoch again. The caller
    removes it when everything that depends on the stage is done.
    """
    callbacks = [] if start is None else [BatchPosition(start)]
    if backup_dir is not None:
        callbacks.append(
            keras.callbacks.BackupAndRestore(
                os.path.join(os.fspath(backup_dir), stage), delete_checkpoint=False
            )
        )
    return callbacks
