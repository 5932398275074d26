import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keras_cluster import cli
from keras_cluster.metrics import adjusted_rand_index, clustering_accuracy, normalized_mutual_info
from tests.distributed import child_env

TINY_BUDGET = [
    "--dims", "8,2",
    "--pretrain-epochs", "1",
    "--finetune-epochs", "1",
    "--max-iter", "2",
    "--update-interval", "1",
    "--batch-size", "32",
]  # fmt: skip


@pytest.fixture
def blobs(tmp_path, rng):
    """Three separated blobs in [0, 1]^6, 90 samples, saved as .npy with labels as .csv."""
    centers = rng.uniform(0.1, 0.9, size=(3, 6))
    y = np.repeat(np.arange(3), 30)
    X = np.clip(centers[y] + rng.normal(scale=0.03, size=(90, 6)), 0, 1).astype("float32")
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "y.csv", y, fmt="%d", header="label", comments="")
    return X, y


def read_labels_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["index", "cluster"]
    return np.array([[int(v) for v in row] for row in rows[1:]])


def test_user_data_with_labels_plot_and_export(tmp_path, blobs, capsys):
    X, y = blobs
    out = tmp_path / "out"
    argv = [str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.csv"), "--n-clusters", "3"]
    argv += ["--out", str(out), "--export", "--plot-samples", "60", *TINY_BUDGET]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "DEC on" in printed and "Pretraining" in printed  # progress is shown

    rows = read_labels_csv(out / "labels.csv")
    np.testing.assert_array_equal(rows[:, 0], np.arange(90))
    labels = rows[:, 1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["acc"] == pytest.approx(clustering_accuracy(y, labels))
    assert summary["nmi"] == pytest.approx(normalized_mutual_info(y, labels))
    assert summary["ari"] == pytest.approx(adjusted_rand_index(y, labels))
    assert (
        f"ACC {summary['acc']:.4f}  NMI {summary['nmi']:.4f}  ARI {summary['ari']:.4f}" in printed
    )
    assert "wall time" in printed and summary["wall_time_s"] >= summary["fit_time_s"] > 0
    assert summary["cluster_sizes"] == np.bincount(labels, minlength=3).tolist()
    assert (out / "embedding.png").read_bytes()[:4] == b"\x89PNG"
    import tensorflow as tf

    reloaded = tf.saved_model.load(str(out / "saved_model"))
    served = reloaded.serve(tf.constant(X))
    np.testing.assert_array_equal(np.argmax(served.numpy(), axis=1), labels)


def test_no_arguments_clusters_the_digits_into_the_default_folder(tmp_path, monkeypatch, capsys):
    from keras_cluster import datasets

    X, y = datasets.load_digits()
    monkeypatch.setattr(datasets, "load_digits", lambda: (X[:150], y[:150]))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--quiet", "--no-plot", *TINY_BUDGET]) == 0
    printed = capsys.readouterr().out
    assert "Pretraining" not in printed  # --quiet: results only
    assert "ACC " in printed and " NMI " in printed and " ARI " in printed
    out = tmp_path / cli.DEFAULT_OUT
    assert len(read_labels_csv(out / "labels.csv")) == 150
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data"] == "digits" and summary["n_clusters"] == 10
    assert not (out / "embedding.png").exists()


def test_raw_csv_export_serves_the_raw_rows_and_agrees_with_labels_csv(tmp_path, blobs):
    """Features far from [0, 1] go in as they are; the SavedModel takes the same raw rows."""
    import tensorflow as tf

    X, _ = blobs
    raw = X * 1000.0 - 500.0
    raw[:, 0] *= 50.0  # one column in other units
    np.savetxt(tmp_path / "x.csv", raw, delimiter=",", header="a,b,c,d,e,f", comments="")
    out = tmp_path / "out"
    argv = [str(tmp_path / "x.csv"), "--n-clusters", "3", "--out", str(out), "--export"]
    assert (
        cli.main([*argv, "--no-plot", "--quiet", "--normalization", "feature", *TINY_BUDGET]) == 0
    )
    labels = read_labels_csv(out / "labels.csv")[:, 1]
    reloaded = tf.saved_model.load(str(out / "saved_model"))
    served = reloaded.serve(tf.constant(raw))
    np.testing.assert_array_equal(np.argmax(served.numpy(), axis=1), labels)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["normalization"] == "feature" and summary["data"] == str(tmp_path / "x.csv")


@pytest.mark.slow
def test_csv_with_header_idec_runs(tmp_path, blobs, capsys):
    X, _ = blobs
    np.savetxt(tmp_path / "x.csv", X * 100 - 50, delimiter=",", header="a,b,c,d,e,f", comments="")
    out = tmp_path / "out"
    argv = [str(tmp_path / "x.csv"), "--n-clusters", "3", "--method", "idec", "--out", str(out)]
    assert cli.main([*argv, "--no-plot", "--quiet", *TINY_BUDGET]) == 0
    printed = capsys.readouterr().out
    assert "no labels given" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "idec"
    assert "acc" not in summary and len(read_labels_csv(out / "labels.csv")) == 90


def test_n2d_method(tmp_path, blobs, capsys):
    pytest.importorskip("umap")
    out = tmp_path / "out"
    argv = [str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.csv"), "--n-clusters", "3"]
    budget = ["--dims", "8,2", "--finetune-epochs", "5", "--batch-size", "32"]
    assert cli.main([*argv, "--method", "n2d", "--out", str(out), "--no-plot", *budget]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "n2d" and summary["acc"] > 0.9


def test_load_features_and_labels_from_csv_with_headers(tmp_path):
    X = np.arange(12.0).reshape(4, 3)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", header="a,b,c", comments="")
    np.testing.assert_array_equal(cli.load_features(tmp_path / "x.csv"), X)
    (tmp_path / "y.csv").write_text("label\n3\n1\n3\n2\n")
    np.testing.assert_array_equal(cli.load_labels(tmp_path / "y.csv", 4), [3, 1, 3, 2])
    (tmp_path / "names.txt").write_text("cat\ndog\ncat\nbird\n")
    assert cli.load_labels(tmp_path / "names.txt", 4).tolist() == [1, 2, 1, 0]  # sorted names


@pytest.mark.parametrize(
    "text",
    [
        ",label\n0,3\n1,1\n2,3\n3,2\n",  # pandas: Series(y, name="label").to_csv(path)
        "label\n3\n1\n3\n2\n",  # pandas: to_csv(path, index=False)
        "index,cluster\n0,3\n1,1\n2,3\n3,2\n",  # this command's own labels.csv
        "3\n1\n3\n2\n",  # no header
    ],
)
def test_labels_csv_with_pandas_header_and_index(tmp_path, text):
    (tmp_path / "y.csv").write_text(text)
    assert cli.load_labels(tmp_path / "y.csv", 4).tolist() == [3, 1, 3, 2]


def test_string_and_fractional_labels_are_numbered_in_sorted_order(tmp_path):
    (tmp_path / "y.csv").write_text("species\nsetosa\nvirginica\nsetosa\nversicolor\n")
    assert cli.load_labels(tmp_path / "y.csv", 4).tolist() == [0, 2, 0, 1]
    (tmp_path / "y.txt").write_text("0.5\n2.5\n0.5\n1.5\n")
    assert cli.load_labels(tmp_path / "y.txt", 4).tolist() == [0, 2, 0, 1]
    np.save(tmp_path / "y.npy", np.array(["b", "a", "b", "c"]))
    assert cli.load_labels(tmp_path / "y.npy", 4).tolist() == [1, 0, 1, 2]


def test_string_labels_are_scored(tmp_path, blobs, capsys):
    X, y = blobs
    names = np.array(["north", "south", "west"])[y]
    (tmp_path / "names.csv").write_text("region\n" + "\n".join(names) + "\n")
    argv = [str(tmp_path / "x.npy"), "--labels", str(tmp_path / "names.csv"), "--n-clusters"]
    out = tmp_path / "out"
    assert cli.main([*argv, "3", "--out", str(out), "--no-plot", "--quiet", *TINY_BUDGET]) == 0
    summary = json.loads((out / "summary.json").read_text())
    labels = read_labels_csv(out / "labels.csv")[:, 1]
    assert summary["acc"] == pytest.approx(clustering_accuracy(y, labels))


def test_data_errors_count_rows_and_columns_from_1(tmp_path):
    (tmp_path / "x.csv").write_text("a,b,c\n1,2,3\n4,oops,6\n")
    with pytest.raises(cli.UsageError, match=r"line 3, column 2 is not a number: 'oops'"):
        cli.load_features(tmp_path / "x.csv")
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    with pytest.raises(cli.UsageError, match=r"line 2 has 2 columns, line 1 has 3"):
        cli.load_features(tmp_path / "ragged.csv")
    X = np.ones((5, 4))
    X[3, 2] = np.inf
    np.save(tmp_path / "inf.npy", X)
    with pytest.raises(cli.UsageError, match=r"inf at row 4, column 3 \(.*counted from 1\)"):
        cli.load_features(tmp_path / "inf.npy")


def test_unexpected_errors_are_not_reported_as_usage_errors(tmp_path, blobs, monkeypatch):
    """A ValueError from inside TensorFlow is a bug to show with its traceback, not exit 2."""

    class Failing:
        def fit_predict(self, X):
            raise ValueError("an internal error")

    monkeypatch.setattr(cli, "_estimator", lambda args: Failing())
    with pytest.raises(ValueError, match="an internal error"):
        cli.main([str(tmp_path / "x.npy"), "--n-clusters", "3", "--out", str(tmp_path / "o")])


def test_a_second_run_removes_the_first_runs_outputs_and_nothing_else(tmp_path, blobs):
    out = tmp_path / "out"
    (out / "saved_model" / "variables").mkdir(parents=True)
    (out / "saved_model" / "saved_model.pb").write_bytes(b"first run")
    (out / "embedding.png").write_bytes(b"first run")
    (out / "notes.txt").write_text("the user's own file")
    outputs = ["labels.csv", "embedding.png", "saved_model", "summary.json"]
    (out / "summary.json").write_text(json.dumps({"outputs": outputs}))
    argv = [str(tmp_path / "x.npy"), "--n-clusters", "3", "--out", str(out), "--no-plot"]
    assert cli.main([*argv, "--quiet", *TINY_BUDGET]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["labels.csv", "notes.txt", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["outputs"] == [
        "labels.csv",
        "summary.json",
    ]


def test_export_refuses_a_saved_model_folder_it_did_not_write(tmp_path, blobs, capsys):
    out = tmp_path / "out"
    (out / "saved_model").mkdir(parents=True)
    (out / "saved_model" / "mine.txt").write_text("the user's own file")
    argv = [str(tmp_path / "x.npy"), "--n-clusters", "3", "--out", str(out), "--export"]
    assert cli.main(argv) == 2
    assert "was not written by a previous run" in capsys.readouterr().err
    assert (out / "saved_model" / "mine.txt").read_text() == "the user's own file"


@pytest.mark.parametrize(
    "make_argv,message",
    [
        (lambda d: [str(d / "missing.npy")], "data file not found"),
        (lambda d: [str(d / "x.txt")], "data file should end in .npy or .csv"),
        (lambda d: [str(d / "x.npy"), "--n-clusters", "0"], "expected an integer >= 1"),
        (lambda d: [str(d / "x.npy"), "--n-clusters", "91"], r"--n-clusters should be <= .*\(90\)"),
        (lambda d: [str(d / "x.npy"), "--labels", str(d / "short.csv")], r"\(90\). Received: 2"),
        (lambda d: [str(d / "nan.npy")], "should not contain NaN"),
        (lambda d: [str(d / "flat.npy")], r"2-D array .*\(90,\)"),
        (lambda d: ["--labels", str(d / "y.csv")], "--labels needs a DATA file"),
        (lambda d: ["--method", "kmeans"], "invalid choice: 'kmeans'"),
        (lambda d: ["--quiet", "--verbose"], "not allowed with argument"),
        (lambda d: ["--method", "n2d", "--export"], "--export is for dec and idec"),
        (lambda d: ["--method", "n2d", "--max-iter", "3"], "--max-iter and --update-interval"),
        (lambda d: ["--scale", "minmax"], "unrecognized arguments: --scale"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, blobs, capsys, make_argv, message):
    X, _ = blobs
    (tmp_path / "x.txt").write_text("1,2\n")
    np.savetxt(tmp_path / "short.csv", [0, 1], fmt="%d")
    bad = X.copy()
    bad[3, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    np.save(tmp_path / "flat.npy", X[:, 0])
    assert cli.main(make_argv(tmp_path)) == 2
    captured = capsys.readouterr()
    assert captured.err.strip(), "the error goes to stderr"
    assert re.search(message, captured.err), captured.err
    assert "Traceback" not in captured.err + captured.out


# Loaded by the child Python at start-up (a `sitecustomize` on its path): at exit, it writes the
# names of the modules the command imported.
MODULES_AT_EXIT = """
import atexit, os, sys

def _write_modules():
    with open(os.environ["KERAS_CLUSTER_TEST_MODULES"], "w") as file:
        file.write("\\n".join(sorted(sys.modules)))

atexit.register(_write_modules)
"""


def _console_script():
    script = Path(sys.executable).parent / "keras-cluster"
    if not script.exists():
        script = shutil.which("keras-cluster")
    assert script, "the `keras-cluster` console script is not installed: pip install -e ."
    return [str(script)]


COMMANDS = {
    "keras-cluster": _console_script,
    "python -m keras_cluster": lambda: [sys.executable, "-m", "keras_cluster"],
}


def run_command(command, folder, timeout=120):
    """Run `command` in `folder` on this checkout; returns the result and the modules it loaded.

    TensorFlow's log level is left unset: the command must silence TensorFlow itself.
    """
    hook = folder / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(MODULES_AT_EXIT)
    modules_file = folder / "modules.txt"
    env = child_env(KERAS_CLUSTER_TEST_MODULES=str(modules_file))
    env["PYTHONPATH"] = os.pathsep.join([str(hook), env["PYTHONPATH"]])
    del env["TF_CPP_MIN_LOG_LEVEL"]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, cwd=folder, check=False
    )
    return result, set(modules_file.read_text().split())


@pytest.mark.parametrize("how", COMMANDS)
@pytest.mark.parametrize(
    "args, code, expected",
    [
        (["--help"], 0, "--n-clusters"),
        (["--version"], 0, "keras-cluster 0.1.0"),
        (["--n-clusters", "0"], 2, "argument --n-clusters: expected an integer >= 1"),
        (["--method", "kmeans"], 2, "argument --method: invalid choice: 'kmeans'"),
        (["missing.npy"], 2, "data file not found: 'missing.npy'"),
    ],
    ids=["help", "version", "bad-n-clusters", "bad-method", "missing-file"],
)
def test_help_and_usage_errors_answer_before_tensorflow(tmp_path, how, args, code, expected):
    result, modules = run_command(COMMANDS[how]() + args, tmp_path)
    assert result.returncode == code, result.stderr
    assert "keras_cluster.cli" in modules, "the hook did not see the command"
    assert not {"tensorflow", "keras"} & modules, "TensorFlow was imported"
    assert "Traceback" not in result.stdout + result.stderr
    if code == 0:
        assert expected in result.stdout
        for option in ("--method", "--out", "--export", "--quiet", "--labels"):
            assert args != ["--help"] or option in result.stdout
        # TensorFlow's start-up lines (oneDNN, CUDA drivers, CPU features) stay out of the way.
        assert result.stderr == "", result.stderr
    else:
        assert expected in result.stderr, result.stderr
        assert result.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize("how", COMMANDS)
def test_a_run_has_an_empty_stderr(tmp_path, how):
    """The whole run, TensorFlow's import and first device search included, is quiet (~20 s)."""
    args = ["--no-plot", "--quiet", "--out", str(tmp_path / "out"), *TINY_BUDGET]
    result, modules = run_command(COMMANDS[how]() + args, tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "tensorflow" in modules
    assert "ACC" in result.stdout
    assert result.stderr == "", result.stderr


def test_the_launcher_sets_the_packages_variable_only_while_importing(monkeypatch):
    import _keras_cluster_launcher as launcher
    import keras_cluster

    assert launcher.COMMAND_LINE_ENV_VAR == keras_cluster.COMMAND_LINE_ENV_VAR
    monkeypatch.delenv(keras_cluster.COMMAND_LINE_ENV_VAR, raising=False)
    monkeypatch.setattr(
        cli, "main", lambda argv: (os.environ.get(keras_cluster.COMMAND_LINE_ENV_VAR), argv)
    )
    assert launcher.main(["--help"]) == (None, ["--help"])
