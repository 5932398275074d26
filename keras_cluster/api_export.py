"""One decorator that declares a public object's export path, where the object is defined.

As keras-rs's `api_export`: the public path is written on the object itself
(`@keras_cluster_export("keras_cluster.metrics.clustering_accuracy")`) and `EXPORTS` lists
every declaration, so the public modules' `__all__` lists are tested against it
(`tests/test_public_objects.py`): every name a public module exports declares that very path,
and every declared path is exported.

Declaring a path does not register anything with Keras. The Keras objects a `.keras` file can
hold (layers, losses, metrics, optimizers, models, and the few functions and callbacks their
configs name) say so with `keras_serializable=True`: they are then also registered under
`keras_cluster>Name` (`keras.saving.register_keras_serializable(package="keras_cluster")`), so
saved models load with no `custom_objects` once `keras_cluster` is imported. Plain functions,
estimators and helpers stay out of Keras' registry (a function registered there would be taken
for a Keras loss or activation).

Keras is imported only to register: a module whose exports are all plain imports no Keras.
"""

PACKAGE = "keras_cluster"

# Public path -> object, filled by the decorator as the modules are imported.
EXPORTS = {}


def keras_cluster_export(path, *, keras_serializable=False):
    """Declare `path` (`keras_cluster.<module>.<Name>`) as the public name of the object.

    Args:
        path: the public path, ending in the object's own name.
        keras_serializable: also register the object with
            `keras.saving.register_keras_serializable(package="keras_cluster")`, for the
            Keras objects a `.keras` file can hold.

    Returns:
        A decorator that records the object in `EXPORTS` (and registers it with Keras when
        `keras_serializable`) and returns it.

    Example:

    >>> from keras_cluster.metrics import clustering_accuracy
    >>> EXPORTS["keras_cluster.metrics.clustering_accuracy"] is clustering_accuracy
    True
    """
    parts = path.split(".") if isinstance(path, str) else []
    if len(parts) != 3 or parts[0] != PACKAGE:
        raise ValueError(
            f"`path` should be 'keras_cluster.<module>.<Name>'. Received: path={path!r}"
        )
    if not isinstance(keras_serializable, bool):
        raise ValueError(
            "`keras_serializable` should be True or False. "
            f"Received: keras_serializable={keras_serializable!r}"
        )

    def declare(obj):
        if obj.__name__ != parts[-1]:
            raise ValueError(
                f"`path` should end in the object's name {obj.__name__!r}. Received: path={path!r}"
            )
        if path in EXPORTS and EXPORTS[path] is not obj:
            raise ValueError(f"`path` {path!r} is already declared by {EXPORTS[path]!r}")
        EXPORTS[path] = obj
        if not keras_serializable:
            return obj
        import keras

        return keras.saving.register_keras_serializable(package=PACKAGE)(obj)

    return declare
