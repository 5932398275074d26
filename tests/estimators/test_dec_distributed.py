"""DEC under `tf.distribute`: two logical CPUs (`MirroredStrategy`) and two worker processes.

Logical devices and workers need processes of their own: `tests.distributed` starts them.
"""

import numpy as np
import pytest

from tests.distributed import run_on_logical_cpus, run_workers

MIRRORED_SCRIPT = """
import json
import numpy as np
import tensorflow as tf
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

# Pretraining, k-means on the embedding, and self-training, on all of digits (1,797 x 64).
DIGITS_SCRIPT = """
import json
import sys
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score
from keras_cluster.estimators import DEC
from keras_cluster.metrics import clustering_accuracy

if sys.argv[1] == "workers":
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
else:
    strategy = tf.distribute.get_strategy()
x, y = load_digits(return_X_y=True)
with strategy.scope():
    est = DEC(10, dims=(64, 10), pretrain="end_to_end", finetune_epochs=40, update_interval=20,
              max_iter=200, tol=0.0, kmeans_n_init=4, batch_size=128, random_state=0, verbose=0)
    est.fit(x)
print(json.dumps({
    "replicas": est.model_.distribute_strategy.num_replicas_in_sync,
    "n_iter": est.n_iter_,
    "nmi": normalized_mutual_info_score(y, est.labels_),
    "acc": float(clustering_accuracy(y, est.labels_)),
    "labels": est.labels_.tolist(),
}))
"""


def test_dec_fits_under_mirrored_strategy():
    result = run_on_logical_cpus(MIRRORED_SCRIPT)
    assert result == {
        "strategy": "MirroredStrategy",
        "replicas": 2,
        "n_iter": 9,
        "rows_sum_to_one": True,
        "labels_match": True,
        "finite_centers": True,
    }


@pytest.mark.slow
def test_dec_across_two_workers_clusters_digits_as_one_process():
    workers = run_workers(DIGITS_SCRIPT, "workers")
    single = run_on_logical_cpus(DIGITS_SCRIPT, "single", devices=1)
    assert workers[0]["labels"] == workers[1]["labels"]  # one model, kept in sync
    assert [w["replicas"] for w in workers] == [2, 2] and single["replicas"] == 1
    for result in (workers[0], single):
        assert result["n_iter"] == 200
        assert result["nmi"] > 0.65 and result["acc"] > 0.65
    # Not the same run: the all-reduce sums the gradients in another order (float32), and DEC
    # amplifies such differences; as good a clustering, not the same one.
    assert workers[0]["nmi"] > single["nmi"] - 0.05
    assert workers[0]["acc"] > single["acc"] - 0.08
    assert np.bincount(workers[0]["labels"], minlength=10).min() > 0
