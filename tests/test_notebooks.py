"""Every notebook in `notebooks/` runs top to bottom on a smoke budget (KERAS_CLUSTER_SMOKE=1)."""

from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT_S = 300
# Where CI keeps MNIST (the repository's sibling `shared/`); without it the MNIST notebook's
# smoke run uses scikit-learn's digits.
SHARED_MNIST = NOTEBOOK_DIR.parent.parent / "shared" / "data" / "mnist.npz"


def test_notebook_folder_holds_notebooks():
    """Guards the parametrised test below, which has no cases (and so passes) if none exist."""
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("KERAS_CLUSTER_SMOKE", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    if SHARED_MNIST.is_file():
        monkeypatch.setenv("KERAS_CLUSTER_DATA", str(SHARED_MNIST))
    notebook = nbformat.read(path, as_version=4)
    assert any(cell.cell_type == "code" for cell in notebook.cells), f"{path.name} has no code"
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError, with the failing cell's traceback
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
