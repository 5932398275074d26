"""DEC builds and trains inside an active `tf.distribute.MirroredStrategy` scope (2 logical CPUs).

Logical devices must be configured before TensorFlow initialises, so this runs in a subprocess.
"""

import json
import subprocess
import sys

SCRIPT = """
import json
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from sklearn.datasets import load_digits
from keras_cluster.estimators import DEC

x = (load_digits().data[:200] / 16).astype("float32")
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    est = DEC(3, dims=(16, 4), pretrain="end_to_end", finetune_epochs=2, update_interval=3,
              max_iter=9, tol=0.0, kmeans_n_init=1, batch_size=32, random_state=0, verbose=0)
    est.fit(x)
q = est.predict_proba(x)
print(json.dumps({
    "strategy": type(est.model_.distribute_strategy).__name__,
    "replicas": est.model_.distribute_strategy.num_replicas_in_sync,
    "n_iter": est.n_iter_,
    "rows_sum_to_one": bool(np.allclose(q.sum(1), 1.0, atol=1e-5)),
    "labels_match": bool((q.argmax(1) == est.labels_).all()),
    "finite_centers": bool(np.isfinite(est.cluster_centers_).all()),
}))
"""


def test_dec_fits_under_mirrored_strategy(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {
        "strategy": "MirroredStrategy",
        "replicas": 2,
        "n_iter": 9,
        "rows_sum_to_one": True,
        "labels_match": True,
        "finite_centers": True,
    }
