"""Fit one estimator on a digits subset and print its labels; the resume tests run it.

    python resume_fit.py DEC BACKUP_DIR

With `KERAS_CLUSTER_TEST_KILL=stage:batch` (read only by this script) the process kills itself
with SIGKILL after training batch `batch` (1-based, counted over the whole fit) of the stage
whose `keras.callbacks.BackupAndRestore` writes to `BACKUP_DIR/stage`, as a preemption would.
The last line printed is JSON: the labels, the centroids, and the batches this process
trained in each stage.
"""

import json
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from keras_cluster.datasets import load_digits  # noqa: E402
from keras_cluster.estimators import DCN, DEC, IDEC  # noqa: E402

ESTIMATORS = {"DEC": DEC, "IDEC": IDEC, "DCN": DCN}
PARAMS = dict(
    dims=(16, 4),
    finetune_epochs=4,
    kmeans_n_init=2,
    batch_size=64,
    random_state=0,
    verbose=0,
)
CLUSTERING = {
    "DEC": dict(update_interval=4, max_iter=24, tol=0.0),
    "IDEC": dict(update_interval=4, max_iter=24, tol=0.0),
    "DCN": dict(epochs=4),
}


def estimator(name, backup_dir):
    return ESTIMATORS[name](n_clusters=4, backup_dir=backup_dir, **PARAMS, **CLUSTERING[name])


def data():
    return load_digits()[0][:256]


def install_kill(spec, batches):
    stage, batch = spec.split(":") if spec else (None, 0)
    original = keras.callbacks.BackupAndRestore.on_train_batch_end

    def on_train_batch_end(self, index, logs=None):
        original(self, index, logs)
        name = os.path.basename(self.backup_dir)
        batches[name] = batches.get(name, 0) + 1
        if name == stage and batches[name] == int(batch):
            os.kill(os.getpid(), signal.SIGKILL)

    keras.callbacks.BackupAndRestore.on_train_batch_end = on_train_batch_end


if __name__ == "__main__":
    batches = {}
    install_kill(os.environ.get("KERAS_CLUSTER_TEST_KILL"), batches)
    name, backup_dir = sys.argv[1:3]
    fitted = estimator(name, backup_dir).fit(data())
    result = {"labels": fitted.labels_.tolist(), "centers": fitted.cluster_centers_.tolist()}
    print(json.dumps({**result, "batches": batches}))
