"""One decorator that declares a public object's export path and registers it with Keras.

As keras-rs's `api_export`: the public path is written where the object is defined
(`@keras_cluster_export("keras_cluster.layers.ClusteringLayer")`), the object is registered
for `.keras` serialization under `keras_cluster>ClusteringLayer` (saved models load with no
`custom_objects` once `keras_cluster` is imported), and `EXPORTS` lists every declaration, so
the subpackages' `__all__` lists are tested against it (`tests/test_public_objects.py`).
"""

import keras

PACKAGE = "keras_cluster"

# Public path -> object, filled by the decorator as the modules are imported.
EXPORTS = {}


def keras_cluster_export(path):
    """Declare `path` (`keras_cluster.<subpackage>.<Name>`) as the public name of the object.

    Args:
        path: the public path, ending in the object's own name.

    Returns:
        A decorator that records the object in `EXPORTS` and registers it with
        `keras.saving.register_keras_serializable(package="keras_cluster")`.
    """
    parts = path.split(".") if isinstance(path, str) else []
    if len(parts) != 3 or parts[0] != PACKAGE:
        raise ValueError(
            f"`path` should be 'keras_cluster.<subpackage>.<Name>'. Received: path={path!r}"
        )

    def register(obj):
        if obj.__name__ != parts[-1]:
            raise ValueError(
                f"`path` should end in the object's name {obj.__name__!r}. Received: path={path!r}"
            )
        if path in EXPORTS and EXPORTS[path] is not obj:
            raise ValueError(f"`path` {path!r} is already declared by {EXPORTS[path]!r}")
        EXPORTS[path] = obj
        return keras.saving.register_keras_serializable(package=PACKAGE)(obj)

    return register
