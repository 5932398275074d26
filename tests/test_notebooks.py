"""Every notebook in `notebooks/` runs top to bottom on a smoke budget (KERAS_CLUSTER_SMOKE=1)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT_S = 300
# Where CI keeps MNIST (the repository's sibling `shared/`); without it the MNIST notebook's
# smoke run uses scikit-learn's digits.
SHARED_MNIST = NOTEBOOK_DIR.parent.parent / "shared" / "data" / "mnist.npz"


def execute(notebook):
    """Run `notebook` in a fresh kernel from `notebooks/`; fail naming the cell that raised."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"a cell raised:\n{error}", pytrace=False)


def use_this_checkout(monkeypatch):
    """The kernel imports this checkout's `keras_cluster`, not the installed one."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.getenv("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)


def test_the_kernel_imports_this_checkout(monkeypatch):
    import nbformat

    use_this_checkout(monkeypatch)
    check = (
        "import importlib.util\n"
        "origin = importlib.util.find_spec('keras_cluster').origin\n"
        f"assert origin.startswith({str(ROOT)!r}), origin"
    )
    execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(check)]))


def test_notebook_folder_holds_notebooks():
    """Guards the parametrised test below, which has no cases (and so passes) if none exist."""
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


def test_a_cell_that_raises_fails_the_run():
    """Guards `execute`: a notebook whose cell raises is reported, with the error."""
    import nbformat

    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = 1"),
            nbformat.v4.new_code_cell("raise ValueError('cell two fails')"),
        ]
    )
    with pytest.raises(pytest.fail.Exception, match="cell two fails"):
        execute(notebook)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    import nbformat

    monkeypatch.setenv("KERAS_CLUSTER_SMOKE", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    use_this_checkout(monkeypatch)
    if SHARED_MNIST.is_file():
        monkeypatch.setenv("KERAS_CLUSTER_DATA", str(SHARED_MNIST))
    notebook = nbformat.read(path, as_version=4)
    assert any(cell.cell_type == "code" for cell in notebook.cells), f"{path.name} has no code"
    execute(notebook)
