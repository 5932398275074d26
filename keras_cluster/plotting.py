"""Embedding plot, as in the DEC tutorials: a t-SNE map of a sample coloured by cluster.

matplotlib is an optional dependency (`pip install "keras-cluster[plot]"`), imported only when a
plot is drawn. Drawing uses the Agg canvas directly (no `pyplot`, no change of the global
backend), so it works headless and leaves an interactive session's backend alone.
"""

from pathlib import Path

import numpy as np

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import Interval, check_array, validate

__all__ = ["draw_clusters", "plot_embedding", "tsne_map"]

INSTALL_HINT = 'pip install "keras-cluster[plot]"'


def _as_matrix(name, value):
    value = check_array(name, value, shape_words="a non-empty 2-D array", dtype=np.float64)
    if value.shape[0] == 0:
        raise ValueError(
            f"`{name}` should be a non-empty 2-D array. Received: {name} with shape {value.shape}"
        )
    return value


@keras_cluster_export("keras_cluster.plotting.tsne_map")
def tsne_map(embedding, labels, centers=None, *, n_samples=2000, perplexity=30.0, random_state=0):
    """2-D t-SNE coordinates of a random sample of `embedding` and of the centroids.

    The centroids are embedded together with the sample (t-SNE has no `transform`), so they
    land among the points they attract.

    Args:
        embedding: array `(n, d)`, e.g. `estimator.transform(X)`.
        labels: cluster label of each row, length `n`.
        centers: optional centroids `(k, d)` in the same space (`cluster_centers_`).
        n_samples: rows sampled without replacement (all if `n <= n_samples`).
        perplexity: t-SNE perplexity, lowered to `(points - 1) / 3` for very small samples.
        random_state: seed of the sample and of t-SNE.

    Returns:
        `(points, sample_labels, center_points)`: `(m, 2)`, `(m,)` and `(k, 2)` (or None).
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    embedding = _as_matrix("embedding", embedding)
    labels = np.asarray(labels)
    if labels.shape != (embedding.shape[0],):
        raise ValueError(
            f"`labels` should have one entry per row of `embedding` ({embedding.shape[0]}). "
            f"Received: shape {labels.shape}"
        )
    validate("n_samples", n_samples, Interval("int", 2, None, closed="left"))
    n_centers = 0
    if centers is not None:
        centers = _as_matrix("centers", centers)
        if centers.shape[1] != embedding.shape[1]:
            raise ValueError(
                f"`centers` should have {embedding.shape[1]} columns like `embedding`. "
                f"Received: shape {centers.shape}"
            )
        n_centers = len(centers)
    rng = np.random.default_rng(random_state)
    index = np.arange(len(embedding))
    if len(index) > n_samples:
        index = np.sort(rng.choice(index, size=n_samples, replace=False))
    points = embedding[index]
    if n_centers:
        points = np.concatenate([points, centers])
    if len(points) < 2:
        raise ValueError(f"t-SNE needs at least 2 points. Received: {len(points)}")
    perplexity = float(min(perplexity, max((len(points) - 1) / 3.0, 1.0)))
    # One OpenMP thread: for a few thousand points t-SNE's Barnes-Hut steps are too short to
    # gain from threads, and on shared cores the thread synchronisation cost 10x here (63 points:
    # 9.2 s with the default threads vs 0.85 s with one, on 2 busy cores).
    with threadpool_limits(limits=1, user_api="openmp"):
        mapped = TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=random_state
        ).fit_transform(points)
    center_points = mapped[len(index) :] if n_centers else None
    return mapped[: len(index)], labels[index], center_points


@keras_cluster_export("keras_cluster.plotting.draw_clusters")
def draw_clusters(figure, axes, points, labels):
    """Scatter `points` coloured by cluster, with a colour bar of one band per cluster.

    The k distinct labels get k colours of `tab10` (`tab20` above 10 clusters) and the colour
    bar k bands, each labelled with its cluster's label; above 20 clusters the colours repeat
    and no colour bar is drawn.

    Args:
        figure: the matplotlib `Figure` holding `axes`.
        axes: the axes to draw on.
        points: array `(m, 2)`.
        labels: cluster label of each point, length `m`.

    Returns:
        The colour bar, or None above 20 clusters.
    """
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm, ListedColormap

    values, codes = np.unique(labels, return_inverse=True)
    n_groups = len(values)
    palette = colormaps["tab10" if n_groups <= 10 else "tab20"]
    cmap = ListedColormap([palette(i % palette.N) for i in range(n_groups)])
    norm = BoundaryNorm(np.arange(n_groups + 1) - 0.5, n_groups)
    colours = axes.scatter(
        points[:, 0], points[:, 1], c=codes.reshape(-1), cmap=cmap, norm=norm, s=6, alpha=0.8
    )
    if n_groups > 20:
        return None
    colour_bar = figure.colorbar(colours, ax=axes, label="cluster", ticks=np.arange(n_groups))
    colour_bar.ax.set_yticklabels([str(value) for value in values])
    return colour_bar


@keras_cluster_export("keras_cluster.plotting.plot_embedding")
def plot_embedding(
    embedding,
    labels,
    path,
    centers=None,
    *,
    n_samples=2000,
    perplexity=30.0,
    random_state=0,
    title=None,
):
    """Save a t-SNE plot of the embedding coloured by cluster, centroids as black triangles.

    Args:
        embedding: array `(n, d)`, e.g. `estimator.transform(X)`.
        labels: cluster label of each row.
        path: image file to write (the format follows the suffix, e.g. `.png`).
        centers: optional centroids `(k, d)`, drawn as black triangles.
        n_samples: points sampled for t-SNE (default 2000).
        perplexity: t-SNE perplexity.
        random_state: seed of the sample and of t-SNE.
        title: optional plot title.

    Returns:
        The `pathlib.Path` written.

    Raises:
        ImportError: matplotlib is not installed (the message says how to install it).

    Example:

    >>> import tempfile
    >>> from keras_cluster.datasets import load_digits
    >>> X, y = load_digits()
    >>> path = plot_embedding(X[:200], y[:200], f"{tempfile.mkdtemp()}/digits.png")
    >>> path.name
    'digits.png'

    References:
        van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 2008.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            f"Plotting the embedding needs matplotlib: {INSTALL_HINT} (or pip install matplotlib)."
        ) from error
    points, sample_labels, center_points = tsne_map(
        embedding,
        labels,
        centers,
        n_samples=n_samples,
        perplexity=perplexity,
        random_state=random_state,
    )
    figure = Figure(figsize=(7, 6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    draw_clusters(figure, axes, points, sample_labels)
    if center_points is not None:
        axes.scatter(
            center_points[:, 0],
            center_points[:, 1],
            marker="^",
            c="black",
            s=120,
            label="centroids",
        )
        axes.legend(loc="best")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title(title or f"t-SNE of the embedding ({len(points)} points)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_inches="tight")
    return path
