"""The `benchmarks` package: it imports without running anything, and its report is built right.

No benchmark runs here: the report is built from a few synthetic rows of each kind.
"""

import importlib
import json
import os
import pathlib

import pytest

import benchmarks
from benchmarks import report, rows
from benchmarks.__main__ import SUITES, main, select

ROOT = pathlib.Path(benchmarks.__file__).parent
MODULES = sorted(
    f"benchmarks.{path.parent.name}.{path.stem}"
    for group in ("quality", "speed", "peers")
    for path in (ROOT / group).glob("*.py")
    if path.stem != "__init__"
)
HELPERS = {"benchmarks.peers.lm_common", "benchmarks.speed.timing"}
PNG = b"\x89PNG\r\n\x1a\n"


def test_every_module_imports_without_running(capsys):
    assert len(MODULES) == 16
    for name in MODULES:
        module = importlib.import_module(name)
        assert name in HELPERS or callable(module.main), name
    importlib.import_module("benchmarks.report")
    importlib.import_module("benchmarks.__main__")
    assert capsys.readouterr().out == ""  # every main() prints: none ran


def test_both_suites_run_every_benchmark():
    benchmarks_ = {name.rsplit(".", 1)[-1] for name in set(MODULES) - HELPERS}
    for suite in ("quick", "full"):
        assert {entry.benchmark for entry in SUITES[suite]} == benchmarks_, suite
        for entry in SUITES[suite]:
            assert importlib.util.find_spec(f"benchmarks.{entry.module}") is not None


def test_only_selects_by_entry_or_benchmark_name():
    full = SUITES["full"]
    assert [e.name for e in select(full, ["lm_digits"])] == ["lm_digits"]
    chosen = [e.name for e in select(full, ["clustering_quality"])]
    assert chosen == [e.name for e in full if e.name.startswith("clustering_quality-")]
    assert len(chosen) == 7
    assert select(full, []) == list(full)
    with pytest.raises(SystemExit, match="unknown benchmark"):
        select(full, ["no_such_benchmark"])


def test_list_prints_the_commands_and_runs_nothing(capsys):
    assert main(["--suite", "quick", "--list", "--only", "lm_refit", "clustering_quality"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "python -m benchmarks.quality.clustering_quality --data wine-std --methods dec idec "
        "--seeds 0 --param 'dims=(64, 32, 10)' --param finetune_epochs=10 --param max_iter=50 "
        "--json benchmarks/results/quick/clustering_quality.json",
        "python -m benchmarks.speed.lm_refit --fits 3 "
        "--json benchmarks/results/quick/lm_refit.json",
    ]


def test_sweep_rows_name_every_setting_other_than_the_defaults():
    from benchmarks.quality.dec_self_training_sweep import row_suffix

    assert row_suffix({}) == ""
    assert row_suffix({"finetune_epochs": 75}) == ", with finetune_epochs=75"
    assert row_suffix({"dims": (64, 10), "max_iter": 50}) == ", with dims=(64, 10), max_iter=50"
    assert row_suffix({"finetune_epochs": 75}, dropout=0.1, corruption="mean") == (
        ", with finetune_epochs=75, pretrained on inputs with dropout 0.1 to the feature means"
    )
    assert row_suffix({}, learning_rate=0.003, cosine=True) == (
        ", pretrained with Adam(0.003, cosine decay)"
    )


def test_matched_confusion_puts_the_best_matching_on_its_diagonal():
    import itertools

    import numpy as np

    from benchmarks.quality.dec_self_training_sweep import matched_confusion

    rng = np.random.default_rng(0)
    for classes, clusters in ((4, 4), (3, 5), (5, 3)):
        y_true = rng.integers(0, classes, 300)
        y_pred = (y_true + rng.integers(0, 2, 300) * rng.integers(0, clusters, 300)) % clusters
        counts = np.zeros((classes, clusters), np.int64)
        np.add.at(counts, (y_true, y_pred), 1)
        # The best one-to-one matching by brute force over every injective map.
        best = max(
            sum(counts[i, j] for i, j in pairs)
            for perm in itertools.permutations(range(max(classes, clusters)))
            for pairs in [[(i, j) for i, j in enumerate(perm) if i < classes and j < clusters]]
        )
        confusion = matched_confusion(y_true, y_pred)
        assert confusion.shape == (classes, max(classes, clusters))
        assert np.trace(confusion) == best
        assert confusion.sum() == 300
        # Every cluster's column is kept; classes no cluster matches add columns of zeros.
        padded = np.concatenate([counts.sum(0), np.zeros(confusion.shape[1] - clusters, int)])
        assert sorted(confusion.sum(0).tolist()) == sorted(padded.tolist())
    # Two classes merged into one cluster: a column with two entries; the unmatched class's
    # column is zeros.
    assert matched_confusion([0, 0, 1, 1, 2, 2], [1, 1, 1, 1, 0, 0]).tolist() == [
        [2, 0, 0],
        [2, 0, 0],
        [0, 0, 2],
    ]


def test_sweep_starts_are_partitions_of_the_embedding_with_their_invariances():
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from benchmarks.quality.dec_self_training_sweep import STARTS, start_partition

    rng = np.random.default_rng(0)
    # Three blobs apart along the second axis; the first axis is noise with 40x the spread.
    centres = np.array([[0.0, 0.0], [0.0, 10.0], [0.0, 20.0]])
    embedding = np.concatenate([c + rng.normal(size=(100, 2)) for c in centres]) * [40.0, 1.0]
    kmeans = KMeans(3, n_init=10, random_state=0).fit(embedding)
    for name in STARTS:
        labels = start_partition(name, embedding, 3, 0, kmeans)
        assert labels.shape == (300,) and set(labels.tolist()) == {0, 1, 2}, name
    assert (start_partition("kmeans", embedding, 3, 0, kmeans) == kmeans.labels_).all()
    # Whitened k-means is the same partition for any invertible linear map of the embedding;
    # plain k-means is not (the noise axis dominates it until the map shrinks that axis).
    whitened = start_partition("whitened-kmeans", embedding, 3, 0, kmeans)
    mixed = embedding @ np.array([[0.025, 0.0], [0.5, 1.0]])
    assert (
        adjusted_rand_score(whitened, start_partition("whitened-kmeans", mixed, 3, 0, kmeans)) == 1
    )
    plain = KMeans(3, n_init=10, random_state=0).fit(mixed).labels_
    assert adjusted_rand_score(kmeans.labels_, plain) < 0.9
    # Cosine k-means sees directions only: scaling rows by positive factors changes nothing.
    cosine = start_partition("cosine-kmeans", embedding + 100.0, 3, 0, kmeans)
    scaled = (embedding + 100.0) * rng.uniform(0.5, 2.0, (300, 1))
    assert adjusted_rand_score(cosine, start_partition("cosine-kmeans", scaled, 3, 0, kmeans)) == 1
    with pytest.raises(ValueError, match="name='spectral'"):
        start_partition("spectral", embedding, 3, 0, kmeans)


def test_partition_means_are_the_cluster_means_and_refuse_an_empty_cluster():
    import numpy as np

    from keras_cluster.estimators.initialization import partition_means

    embedding = np.arange(12.0).reshape(6, 2)
    labels = [2, 0, 2, 1, 0, 1]
    expected = [
        [embedding[[1, 4]].mean(0)],
        [embedding[[3, 5]].mean(0)],
        [embedding[[0, 2]].mean(0)],
    ]
    np.testing.assert_array_equal(partition_means(embedding, labels, 3), np.concatenate(expected))
    with pytest.raises(ValueError, match=r"cluster sizes \[2, 0, 4\]"):
        partition_means(embedding, [0, 2, 2, 0, 2, 2], 3)
    # With `empty`, a cluster without rows takes its row of it (init="gmm": the mixture means).
    empty = np.full((3, 2), -1.0)
    np.testing.assert_array_equal(
        partition_means(embedding, [0, 2, 2, 0, 2, 2], 3, empty=empty),
        [embedding[[0, 3]].mean(0), [-1.0, -1.0], embedding[[1, 2, 4, 5]].mean(0)],
    )


def test_sweep_variants_name_their_estimator_and_optimizer():
    import keras

    from benchmarks.quality import dec_self_training_sweep as sweep
    from keras_cluster.estimators import DEC, IDEC

    assert sweep.parse_variant("") == ("dec defaults", DEC, {})
    assert sweep.parse_variant("idec:") == ("idec defaults", IDEC, {})
    assert sweep.parse_variant("update_interval=35") == (
        "dec update_interval=35",
        DEC,
        {"update_interval": 35},
    )
    name, estimator_class, params = sweep.parse_variant("idec:optimizer_lr=0.001,gamma=10.0")
    assert name == "idec optimizer_lr=0.001,gamma=10.0" and estimator_class is IDEC
    assert params["gamma"] == 10.0
    assert isinstance(params["optimizer"], keras.optimizers.SGD)
    assert float(params["optimizer"].learning_rate) == pytest.approx(0.001)
    assert float(params["optimizer"].momentum) == pytest.approx(0.9)
    name, estimator_class, params = sweep.parse_variant("adam_lr=0.0003")
    assert estimator_class is DEC and isinstance(params["optimizer"], keras.optimizers.Adam)
    assert float(params["optimizer"].learning_rate) == pytest.approx(0.0003)
    with pytest.raises(SystemExit, match="'dcn:'"):
        sweep.parse_variant("dcn:")


@pytest.mark.parametrize("rate", ["1.0", "-0.1"])
def test_sweep_pretrain_dropout_outside_its_range_names_the_value(rate, monkeypatch, capsys):
    from benchmarks.quality import dec_self_training_sweep as sweep

    monkeypatch.setattr("sys.argv", ["sweep", "--pretrain-dropout", rate])
    with pytest.raises(SystemExit):
        sweep.main()
    assert (
        f"--pretrain-dropout should be in [0, 1). Received: {float(rate)}"
        in capsys.readouterr().err
    )


def test_sweep_pretrain_corruption_without_a_rate_is_refused(monkeypatch, capsys):
    from benchmarks.quality import dec_self_training_sweep as sweep

    monkeypatch.setattr("sys.argv", ["sweep", "--pretrain-corruption", "mean"])
    with pytest.raises(SystemExit):
        sweep.main()
    assert "--pretrain-corruption mean needs --pretrain-dropout RATE" in capsys.readouterr().err


@pytest.mark.parametrize("rate", ["0", "-0.001"])
def test_sweep_pretrain_lr_not_positive_names_the_value(rate, monkeypatch, capsys):
    from benchmarks.quality import dec_self_training_sweep as sweep

    monkeypatch.setattr("sys.argv", ["sweep", "--pretrain-lr", rate])
    with pytest.raises(SystemExit):
        sweep.main()
    assert f"--pretrain-lr should be > 0. Received: {float(rate)}" in capsys.readouterr().err


def test_sweep_cosine_schedule_spans_the_steps_the_estimator_pretrains():
    import keras
    import numpy as np

    from benchmarks.quality import dec_self_training_sweep as sweep
    from keras_cluster.estimators import DEC

    x = np.random.default_rng(0).normal(size=(300, 4)).astype("float32")
    settings = {"dims": (3, 2), "finetune_epochs": 3, "batch_size": 64, "max_iter": 0}
    steps = sweep.pretrain_steps(len(x), settings)
    assert steps == 3 * 5  # 3 epochs of ceil(300 / 64) batches
    assert sweep.pretrain_steps(1797, {}) == 150 * 8  # "auto": 150 epochs on digits
    schedule = sweep.pretrain_schedule(3e-3, steps)
    optimizer = keras.optimizers.Adam(schedule)
    dec = DEC(2, **settings, pretrain_optimizer=optimizer, random_state=0, verbose=0).fit(x)
    assert dec.pretrain_epochs_ * 5 == steps  # the schedule spans the estimator's pretraining
    for step in (0, 7, steps):  # lr * (1 + cos(pi * step / steps)) / 2
        expected = 3e-3 * (1 + np.cos(np.pi * step / steps)) / 2
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5, abs=1e-9)
    assert sweep.pretrain_schedule(3e-3) == 3e-3


def test_rosenbrock_summary_counts_the_seeds_where_ours_ends_at_or_below_a_peer():
    from benchmarks.peers import lm_rosenbrock_6d as rosenbrock

    tf_peer, nielsen = rosenbrock.TF_PEER, rosenbrock.NIELSEN
    by_seed = {  # {seed: {method: (val MSE, s/epoch)}}
        0: {"ours": (0.0032, 0.05), nielsen: (0.0008, 0.04), tf_peer: (0.0030, 0.40)},
        1: {"ours": (0.0020, 0.05), nielsen: (0.0030, 0.05), tf_peer: (0.0020, 0.20)},
        2: {"ours": (0.0010, 0.05), nielsen: (0.0011, 0.05), tf_peer: (0.0050, 0.25)},
    }
    lines = rosenbrock.summary(by_seed)
    assert lines[0] == (
        f"  {'ours':<28} val MSE median 0.00200 (range 0.00100-0.00320) | s/epoch median 0.0500"
    )
    # ours: 0.0032 > 0.0030, 0.0020 <= 0.0020, 0.0010 <= 0.0050; ratios 0.125, 0.25, 0.2.
    assert f"  ours vs {tf_peer}: val MSE <= the peer's on 2 of 3 initial weights; " in lines[3]
    assert lines[3].endswith("s/epoch ratio median 0.20")
    assert f"  {nielsen} vs {tf_peer}: val MSE <= the peer's on 2 of 3 initial weights" in lines[4]
    assert not any("torch" in line for line in lines)  # a peer left out has no comparison


def test_write_rows_stamps_machine_date_and_command(tmp_path):
    path = tmp_path / "sub" / "x.json"
    rows.write_rows(str(path), [{"benchmark": "x", "problem": "p", "method": "m", "seed": 0}])
    (row,) = json.loads(path.read_text())
    assert row["benchmark"] == "x" and "logical CPUs" in row["machine"]
    assert len(row["date"]) == 10 and row["command"].startswith("python ")


def test_a_missing_peer_is_a_notice_not_a_failure(capsys):
    assert not rows.peer_available("no_such_peer_module_xyz", "no-such-peer")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no-such-peer is not importable" in out
    assert rows.peer_available("json", "json")


def clustering_rows():
    """Two seeds of two methods on one data set, in clustering_quality's format."""
    return [
        dict(data="toy", seed=0, method="dec", seconds=10.0, acc=0.7, nmi=0.6, ari=0.5),
        dict(data="toy", seed=1, method="dec", seconds=30.0, acc=0.9, nmi=0.8, ari=0.7),
        dict(data="toy", seed=0, method="pretraining", seconds=5.0, gflops=2.0, acc=0.5,
             nmi=0.4, ari=0.3),
    ]  # fmt: skip


def curve(seconds, losses, **extra):
    return {"seconds": seconds, "loss": losses, "val_loss": losses, **extra}


def lm_rows():
    """A peers benchmark: ours, a peer and Adam on one problem, with curves and baselines."""
    common = dict(benchmark="lm_rosenbrock_6d", problem="toy-lm", seed=0, machine="test machine",
                  date="2026-01-02", command="python -m benchmarks.peers.lm_toy --epochs 3",
                  plot="toy-lm", seconds_unit="s/epoch")  # fmt: skip
    return [
        dict(common, method="ours", seconds=1.0, val_mse=0.01,
             baseline=["peer-lm", "Adam"], curve=curve([1, 2, 3], [1.0, 0.1, 0.01])),
        dict(common, method="peer-lm", seconds=4.0, val_mse=0.02,
             curve=curve([4, 8, 12], [1.0, 0.2, 0.02])),
        dict(common, method="Adam", seconds=None, val_mse=0.5,
             curve=curve([1, 2, 3], [1.0, 0.8, 0.5], val_accuracy=[0.1, 0.2, 0.3])),
    ]  # fmt: skip


def speed_rows():
    common = dict(benchmark="kmeans_loss_speed", problem="n=8", seed=0, machine="test machine",
                  date="2026-01-03", seconds_unit="s a call")  # fmt: skip
    return [
        dict(common, method="ours", seconds=0.002, baseline=["forum"], rel_loss_diff=1e-7),
        dict(common, method="forum", seconds=0.008),
        dict(common, benchmark="lm_memory", problem="8-64-64-1, 100 rows", method="ours",
             peak_rss_gb=0.5, loss=[4.5, 0.8]),
    ]  # fmt: skip


def test_report_from_synthetic_rows(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(clustering_rows() + lm_rows()))
    # A later file overrides an earlier one for the same (data, seed, method): seed 1 of dec.
    second.write_text(
        json.dumps(
            [dict(data="toy", seed=1, method="dec", seconds=50.0, acc=0.8, nmi=0.7, ari=0.6)]
            + speed_rows()
        )
    )
    out = tmp_path / "out" / "RESULTS.md"
    report.main([str(first), str(second), "--out", str(out), "--note", "A note."])
    text = out.read_text()

    assert text.startswith("# Results\n")
    assert "A note." in text
    assert "- Machine: test machine." in text
    assert "- Machine: " in text.replace("- Machine: test machine.", "")  # rows without one
    assert "2026-01-02" in text and "2026-01-03" in text
    # Clustering: medians over the seeds with their range; the overriding row's figures.
    assert (
        "| dec | 0, 1 | 0.750 (0.700–0.800) | 0.650 (0.600–0.700) | 0.550 (0.500–0.600) | "
        "30 (10–50) |  |" in text
    )
    assert "0.900" not in text
    assert "| AE + k-means (the start) | 0 | 0.500 | 0.400 | 0.300 | 5 | 2 |" in text
    # The peers: a table per problem, its command, the curves' plot.
    assert "## Levenberg-Marquardt against the peers\n\n### lm_rosenbrock_6d" in text
    assert "6-D Rosenbrock: ours vs tf-levenberg-marquardt" in text  # the module's docstring
    assert "    python -m benchmarks.peers.lm_toy --epochs 3" in text
    assert "| method | seed | s/epoch | val mse |" in text
    assert "| peer-lm | 0 | 4 | 0.02 |" in text
    assert "| Adam | 0 | – | 0.5 |" in text
    assert "](plots/lm-toy-lm.png)" in text
    # Speed ratios: ours / theirs; a baseline that never reached its target says so.
    assert "| kmeans_loss_speed | n=8 | ours | forum | s a call | 0.002 | 0.008 | 0.25 |" in text
    assert "| lm_rosenbrock_6d | toy-lm | ours | peer-lm | s/epoch | 1 | 4 | 0.25 |" in text
    assert "| toy-lm | ours | Adam | s/epoch | 1 | not reached | theirs not reached |" in text
    assert "](plots/speed-ratios.png)" in text
    assert "| ours | 0 | 0.5 | 4.5, 0.8 |" in text  # lm_memory: a list figure
    assert "## Speed and memory" in text and "### kmeans_loss_speed" in text
    for name in ("toy", "lm-toy-lm", "speed-ratios"):
        assert (out.parent / "plots" / f"{name}.png").read_bytes().startswith(PNG), name
    assert sorted(p.name for p in (out.parent / "plots").iterdir()) == [
        "lm-toy-lm.png",
        "speed-ratios.png",
        "toy.png",
    ]


def test_report_tables_only_and_default_files(tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    (results / "old.json").write_text(json.dumps(clustering_rows()))
    monkeypatch.setattr(report, "RESULTS", results)
    out = tmp_path / "RESULTS.md"
    report.main(["--out", str(out), "--no-plots"])
    assert "### toy" in out.read_text() and "![" not in out.read_text()
    assert not (tmp_path / "plots").exists()
    assert report.default_files(results) == [results / "old.json"]


def test_default_files_by_name_not_modification_time(tmp_path):
    for name in ("b.json", "a.json", "c.json"):
        (tmp_path / name).write_text("[]")
    os.utime(tmp_path / "a.json", (2_000_000_000, 2_000_000_000))  # the newest
    os.utime(tmp_path / "c.json", (1_000_000_000, 1_000_000_000))  # the oldest
    (tmp_path / "notes.txt").write_text("not rows")
    assert [p.name for p in report.default_files(tmp_path)] == ["a.json", "b.json", "c.json"]
