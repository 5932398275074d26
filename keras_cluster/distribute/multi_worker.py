"""`model.fit` across processes under `tf.distribute.MultiWorkerMirroredStrategy`.

Keras 3's TensorFlow trainer (`keras/src/backend/tensorflow/trainer.py`) fails `fit` and
`evaluate` under the collective strategy in multi-worker mode, for any model and optimizer
(keras-team/keras#20585, tensorflow/tensorflow#72388), for two separate reasons:

1. `fit`/`evaluate` call `_maybe_symbolic_build`, which hands the whole first batch (a
   structure of `PerReplica` values) to `strategy.reduce("MEAN", batch, axis=None)` only to
   learn its shapes. `MirroredStrategy` maps that reduce over the structure; the collective
   strategy does not ("Attempt to convert a value (PerReplica...) to a Tensor").
2. The logs of every step are reduced with `strategy.reduce("MEAN", value, axis=0)`, which fails
   on scalars ("Invalid reduction dimension 0 for input with 0 dimensions").

`adapt_for_multi_worker(model)` works around both on one model instance, without changing its
class and without touching Keras: the model is built from this worker's local shard of the
first batch (no reduce), and every log value of `train_step`/`test_step` gets a leading axis of
length 1, so that the mean over axis 0 is the mean over the replicas, the value Keras computes
under `MirroredStrategy`. Every step function Keras compiles for the model goes through
`model._make_function`, so the fix also holds for a custom `train_step` and for the
Levenberg-Marquardt step that `MuAdaptation` compiles. Under any other strategy (or none) the
model trains exactly as before. The private Keras names read here are `_maybe_symbolic_build`,
`_symbolic_build`, `_make_function` and `_distribute_strategy`.

Limits (Keras 3.15, TensorFlow 2.21):
- `steps_per_execution > 1` fails under the collective strategy; `fit`/`evaluate` of an adapted
  model raise a `ValueError` naming it instead.
- Every worker runs every callback. Checkpoints, `BackupAndRestore` directories, CSV and
  TensorBoard logs written to one shared path collide: give each worker its own path with
  `worker_path(path, strategy)`, or write on the chief only (`is_chief(strategy)`).
- Every worker must see the same number of batches per epoch and take the same decisions in its
  callbacks (early stopping, `stop_training`), or the collective ops of the next step wait
  forever: callbacks that decide from the logs see the same (all-reduced) values on every
  worker; callbacks that decide from data of their own must compute it identically.
"""

import os

import tensorflow as tf
from keras import ops, tree

from keras_cluster.api_export import keras_cluster_export

_ADAPTED = "_keras_cluster_multi_worker"


@keras_cluster_export("keras_cluster.distribute.in_multi_worker_mode")
def in_multi_worker_mode(strategy):
    """Whether `strategy` is a `MultiWorkerMirroredStrategy` spanning more than one worker."""
    return (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.extended._in_multi_worker_mode()
    )


@keras_cluster_export("keras_cluster.distribute.adapt_for_multi_worker")
def adapt_for_multi_worker(model):
    """Lets `model.fit`/`evaluate` run under a multi-worker `MultiWorkerMirroredStrategy`.

    Call it once on a model created in the strategy's scope (after `compile` or before, and
    before its first `fit`). It changes two methods of this instance only; under another
    strategy, or none, `fit` is unchanged. Calling it again does nothing.

    Formula (the step logs Keras reduces with `strategy.reduce("MEAN", v, axis=0)`):
    ```
    v (scalar on each of R replicas)  ->  v[None]  ->  mean over axis 0 = (1/R) sum_r v_r
    ```

    Args:
        model: A Keras model (TensorFlow backend) created inside the strategy's scope.

    Returns:
        `model`, adapted.

    Example:
    ```python
    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # TF_CONFIG names the workers
    with strategy.scope():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    adapt_for_multi_worker(model)
    model.fit(x, y, batch_size=64, callbacks=[MuAdaptation()])
    ```

    References:
        keras-team/keras#20585, "Does Keras 3 work with
        `tf.distribute.MultiWorkerMirroredStrategy`?" (open).
        tensorflow/tensorflow#72388, "`tf.distribute` and `keras` 3 incompatibility:
        ValueError: Invalid reduction dimension 0 for input with 0 dimensions." (closed as a
        Keras 3 issue).
    """
    if model.__dict__.get(_ADAPTED) or not in_multi_worker_mode(model._distribute_strategy):
        return model
    make_function = model._make_function

    def build_from_local_shard(iterator=None, data_batch=None):
        strategy = model.distribute_strategy
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tree.map_structure(
                    lambda value: strategy.experimental_local_results(value)[0], next(batches)
                )
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    def make_function_with_batched_logs(step_function):
        if model.steps_per_execution > 1:
            raise ValueError(
                "Under a multi-worker MultiWorkerMirroredStrategy, Keras trains and evaluates "
                "one step per execution only. Received: "
                f"steps_per_execution={model.steps_per_execution}"
            )

        def step_with_batched_logs(data):
            return tree.map_structure(lambda value: ops.expand_dims(value, 0), step_function(data))

        return make_function(step_with_batched_logs)

    model.__dict__["_maybe_symbolic_build"] = build_from_local_shard
    model.__dict__["_make_function"] = make_function_with_batched_logs
    model.__dict__[_ADAPTED] = True
    return model


@keras_cluster_export("keras_cluster.distribute.is_chief")
def is_chief(strategy):
    """Whether this process should write what is written once (checkpoints, logs, exports).

    True without a strategy, under a single-process strategy, and on the chief worker (worker 0
    when `TF_CONFIG` names no `chief` task) of a `MultiWorkerMirroredStrategy`.

    Args:
        strategy: A `tf.distribute.Strategy`.

    Returns:
        A bool.
    """
    return bool(strategy.extended.should_checkpoint)


@keras_cluster_export("keras_cluster.distribute.worker_path")
def worker_path(path, strategy):
    """`path` on the chief; on any other worker, `path` inside a folder of its own.

    Every worker runs every callback, so a checkpoint, backup or log path shared by all of them
    collides. On worker `i` (not the chief) this returns `dirname(path)/worker_i/basename(path)`;
    those copies can be deleted after training, the chief's are the result.

    Args:
        path: A file or folder path (str or `os.PathLike`).
        strategy: The `tf.distribute.Strategy` the model trains under.

    Returns:
        A str path.

    Example:
    ```python
    backup = keras.callbacks.BackupAndRestore(worker_path("/tmp/backup", strategy))
    ```
    """
    path = os.fspath(path)
    if is_chief(strategy):
        return path
    task_id = strategy.cluster_resolver.task_id
    head, tail = os.path.split(path.rstrip(os.sep)) if path.rstrip(os.sep) else ("", path)
    return os.path.join(head, f"worker_{task_id}", tail)
