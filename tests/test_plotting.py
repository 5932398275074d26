import sys

import numpy as np
import pytest

from keras_cluster.plotting import INSTALL_HINT, draw_clusters, plot_embedding, tsne_map


@pytest.fixture
def blobs(rng):
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0]])
    labels = np.repeat(np.arange(3), 30)
    embedding = centers[labels] + rng.normal(scale=0.5, size=(90, 3))
    return embedding, labels, centers


def test_tsne_map_samples_and_embeds_centroids_with_the_points(blobs):
    embedding, labels, centers = blobs
    points, sample_labels, center_points = tsne_map(
        embedding, labels, centers, n_samples=60, random_state=0
    )
    assert points.shape == (60, 2) and sample_labels.shape == (60,)
    assert center_points.shape == (3, 2)
    # Each centroid lands nearer its own cluster's sampled points than any other cluster's.
    for k in range(3):
        mean_distances = [
            np.linalg.norm(points[sample_labels == j] - center_points[k], axis=1).mean()
            for j in range(3)
        ]
        assert np.argmin(mean_distances) == k


def test_plot_embedding_writes_a_png(blobs, tmp_path):
    embedding, labels, centers = blobs
    path = plot_embedding(embedding, labels, tmp_path / "sub" / "plot.png", centers=centers)
    assert path == tmp_path / "sub" / "plot.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5000


@pytest.mark.parametrize("labels", [[0, 1, 2], [2, 5, 9], list(range(12))])
def test_colour_bar_has_one_band_per_cluster_labelled_by_the_cluster(labels, rng):
    figure_module = pytest.importorskip("matplotlib.figure")
    labels = np.repeat(np.array(labels), 4)
    points = rng.normal(size=(len(labels), 2))
    figure = figure_module.Figure()
    axes = figure.add_subplot()
    colour_bar = draw_clusters(figure, axes, points, labels)
    values = np.unique(labels)
    k = len(values)
    assert colour_bar.cmap.N == k  # k colours, not a continuous map cut into ten
    np.testing.assert_array_equal(colour_bar.get_ticks(), np.arange(k))
    assert [tick.get_text() for tick in colour_bar.ax.get_yticklabels()] == [str(v) for v in values]
    np.testing.assert_array_equal(colour_bar.norm.boundaries, np.arange(k + 1) - 0.5)
    # Each point has its cluster's colour, and no two clusters share one.
    scatter = axes.collections[0]
    colours = scatter.to_rgba(scatter.get_array())[:, :3]
    for value in values:
        assert len(np.unique(colours[labels == value], axis=0)) == 1
    assert len(np.unique(colours, axis=0)) == k


def test_missing_matplotlib_gives_install_hint(blobs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    embedding, labels, _ = blobs
    with pytest.raises(ImportError, match=r"keras-cluster\[plot\]") as info:
        plot_embedding(embedding, labels, tmp_path / "plot.png")
    assert INSTALL_HINT in str(info.value)
    assert not (tmp_path / "plot.png").exists()


def test_bad_input(blobs):
    embedding, labels, centers = blobs
    with pytest.raises(ValueError, match=r"`embedding` should be a non-empty 2-D.*\(90,\)"):
        tsne_map(embedding[:, 0], labels)
    with pytest.raises(ValueError, match=r"`labels` should have one entry per row.*\(89,\)"):
        tsne_map(embedding, labels[:-1])
    with pytest.raises(ValueError, match=r"`centers` should have 3 columns.*\(3, 2\)"):
        tsne_map(embedding, labels, centers[:, :2])
    with pytest.raises(ValueError, match=r"`n_samples`.*n_samples=1"):
        tsne_map(embedding, labels, n_samples=1)
    bad = embedding.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="`embedding` should not contain NaN"):
        tsne_map(bad, labels)


def test_building_blocks_do_not_import_plotting_or_the_cli():
    """Dependencies point down: only the CLI may import plotting, nothing imports the CLI."""
    import ast
    from pathlib import Path

    import keras_cluster

    package = Path(keras_cluster.__file__).parent
    offenders = []
    for file in package.rglob("*.py"):
        if file.name in ("cli.py", "plotting.py", "__main__.py") and file.parent == package:
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if any(n in ("keras_cluster.plotting", "keras_cluster.cli") for n in names):
                offenders.append(str(file.relative_to(package)))
    assert offenders == []
