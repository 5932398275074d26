"""keras_cluster: deep clustering and second-order training for Keras 3 `model.fit`.

Subpackages: `layers`, `losses`, `optimizers`, `callbacks`, `metrics`, `models`, `estimators`,
`datasets`, `distribute`.
"""

__version__ = "0.1.0"

from keras_cluster import (  # noqa: E402
    callbacks,
    datasets,
    distribute,
    estimators,
    layers,
    losses,
    metrics,
    models,
    optimizers,
)

__all__ = [
    "__version__",
    "callbacks",
    "datasets",
    "distribute",
    "estimators",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
]
