"""Training across devices and processes with `tf.distribute`."""

from keras_cluster.distribute.multi_worker import (
    adapt_for_multi_worker,
    in_multi_worker_mode,
    is_chief,
    worker_path,
)

__all__ = ["adapt_for_multi_worker", "in_multi_worker_mode", "is_chief", "worker_path"]
