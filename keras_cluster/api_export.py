"""One decorator that registers a public object for `.keras` serialization."""

import keras

PACKAGE = "keras_cluster"


def keras_cluster_export(obj):
    """Register `obj` under `keras_cluster>Name` so saved models load with no `custom_objects`."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(obj)
