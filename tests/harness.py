"""Shared checks for the public Keras objects: config and `.keras` round trips.

In the spirit of Keras's `testing/test_case.py` (`run_layer_test`) and tensorflow/addons'
`testing/serialization.py` (`check_config`): every constructor argument appears in `get_config`,
the config rebuilds an equal object, the object is registered under `keras_cluster>Name`, and a
model holding it survives `.keras` saving (with `safe_mode=True`) and SavedModel export.
"""

import inspect

import keras
import numpy as np
import tensorflow as tf

PACKAGE = "keras_cluster"

# Constructor arguments Keras itself consumes and stores under another key or not at all.
_KERAS_OWNED = {"self", "args", "kwargs", "name", "dtype", "reduction", "trainable"}


def constructor_arguments(cls):
    """Names of `cls.__init__`'s own arguments (without `self`, `*args`, `**kwargs`)."""
    return [
        name
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name not in _KERAS_OWNED
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]


def _comparable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "numpy"):
        return np.asarray(value).tolist()
    return value


def run_config_test(obj, serialize, deserialize, expected=None, exempt=()):
    """Check `obj`'s config: complete, registered, and rebuilding an equal object.

    Args:
        obj: a layer, loss, metric or optimizer instance.
        serialize, deserialize: the matching `keras.{layers,losses,metrics,optimizers}`
            functions.
        expected: optional `{argument: value}` the config must hold.
        exempt: constructor arguments deliberately not in the config (say why at the call).

    Returns:
        The object rebuilt through `deserialize(serialize(obj))`.
    """
    cls = type(obj)
    assert keras.saving.get_registered_name(cls) == f"{PACKAGE}>{cls.__name__}"
    config = obj.get_config()
    missing = [
        name for name in constructor_arguments(cls) if name not in config and name not in exempt
    ]
    assert not missing, f"{cls.__name__}.get_config() lacks constructor arguments {missing}"
    for name, value in (expected or {}).items():
        if isinstance(value, float):  # stored as a float32 variable's value, say
            np.testing.assert_allclose(config[name], value, rtol=1e-6, err_msg=name)
        else:
            np.testing.assert_equal(_comparable(config[name]), _comparable(value), err_msg=name)
    clone = cls.from_config(config)
    assert type(clone) is cls
    np.testing.assert_equal(
        {k: _comparable(v) for k, v in clone.get_config().items()},
        {k: _comparable(v) for k, v in config.items()},
    )
    restored = deserialize(serialize(obj))
    assert type(restored) is cls
    return restored


def run_model_saving_test(model, x, tmp_path, export=True, rtol=1e-6, atol=1e-6):
    """`.keras` save -> `load_model(safe_mode=True)` and SavedModel export give `model`'s outputs.

    Returns:
        The model loaded from the `.keras` file.
    """
    expected = keras.ops.convert_to_numpy(model(x))
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), expected, rtol=rtol, atol=atol
    )
    if export:
        export_dir = str(tmp_path / f"{model.name}_saved_model")
        model.export(export_dir, verbose=False)
        reloaded = tf.saved_model.load(export_dir)
        served = reloaded.serve(tf.constant(x))
        np.testing.assert_allclose(np.asarray(served), expected, rtol=rtol, atol=atol)
    return loaded
