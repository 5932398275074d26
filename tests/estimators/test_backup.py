"""`backup_dir`: a fit killed with SIGKILL and started again ends with the uninterrupted labels."""

import json
import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import pytest

from keras_cluster.estimators import DEC
from keras_cluster.estimators.backup import save_initialization

SCRIPT = pathlib.Path(__file__).with_name("resume_fit.py")
ROOT = SCRIPT.parents[2]
sys.path.insert(0, str(SCRIPT.parent))
import resume_fit  # noqa: E402

from tests.distributed import child_env  # noqa: E402


def run_script(name, backup_dir, kill=None):
    """Run `resume_fit.py`; returns its JSON result, or None when it was killed."""
    env = child_env()
    env.pop("KERAS_CLUSTER_TEST_KILL", None)
    if kill is not None:
        env["KERAS_CLUSTER_TEST_KILL"] = kill
    done = subprocess.run(
        [sys.executable, str(SCRIPT), name, str(backup_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if kill is not None and done.returncode == -signal.SIGKILL:
        return None
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def uninterrupted(name, backup_dir):
    """The same fit in this process, without a kill."""
    return resume_fit.estimator(name, backup_dir).fit(resume_fit.data())


def assert_resumes(name, stage, batch, tmp_path, full_batches):
    backup_dir = tmp_path / "backup"
    assert run_script(name, backup_dir, kill=f"{stage}:{batch}") is None
    assert (backup_dir / stage / "latest.weights.h5").is_file()
    resumed = run_script(name, backup_dir)
    # The restart trained only what the killed run had not finished and saved (its last epoch).
    assert resumed["batches"][stage] < full_batches
    reference = uninterrupted(name, tmp_path / "reference")
    assert resumed["labels"] == reference.labels_.tolist()
    # Not only the labels: the resumed training is the uninterrupted one (same batches, same P).
    np.testing.assert_allclose(resumed["centers"], reference.cluster_centers_, rtol=1e-5, atol=1e-6)
    assert not backup_dir.exists()


def test_dec_killed_mid_self_training_resumes_to_the_same_labels(tmp_path):
    # 6 epochs of 4 batches; killed in the third epoch, the restart trains epochs 3 to 6.
    assert_resumes("DEC", "self_training", 10, tmp_path, full_batches=24)


@pytest.mark.slow
def test_dec_killed_mid_pretraining_resumes_to_the_same_labels(tmp_path):
    # 4 epochs of 4 batches; killed in the second epoch, after the first one was saved.
    assert_resumes("DEC", "pretraining", 6, tmp_path, full_batches=16)


@pytest.mark.slow
def test_idec_killed_mid_self_training_resumes_to_the_same_labels(tmp_path):
    assert_resumes("IDEC", "self_training", 14, tmp_path, full_batches=24)


@pytest.mark.slow
def test_dcn_killed_mid_clustering_resumes_to_the_same_labels(tmp_path):
    assert_resumes("DCN", "clustering", 6, tmp_path, full_batches=16)


def test_a_restart_after_the_initialization_restores_it_and_writes_only_there(
    tmp_path, monkeypatch
):
    """The saved start is used, not redrawn; the fit writes nothing but its removed backup."""
    x = resume_fit.data()[:64]
    backup_dir = tmp_path / "backup"
    rng = np.random.default_rng(0)
    centroids = rng.normal(size=(3, 2)).astype("float32")
    labels = rng.integers(0, 3, size=64)
    save_initialization(backup_dir, centroids, labels)
    monkeypatch.chdir(tmp_path)
    params = dict(dims=(8, 2), finetune_epochs=1, max_iter=0, kmeans_n_init=1, verbose=0)
    estimator = DEC(n_clusters=3, backup_dir=backup_dir, **params).fit(x)
    assert estimator.kmeans_ is None
    np.testing.assert_array_equal(estimator.init_labels_, labels)
    np.testing.assert_array_equal(estimator.cluster_centers_, centroids)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("value", [3, "", "a_file"])
def test_bad_backup_dir(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ValueError, match="`backup_dir` should be None or the path of a folder"):
        DEC(n_clusters=2, dims=(2,), backup_dir=value).fit(np.zeros((4, 2)))
