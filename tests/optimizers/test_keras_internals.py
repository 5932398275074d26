"""The private Keras attributes our step reads: each test fails first when Keras renames one."""

import ast
import inspect
import textwrap

import keras
import numpy as np
import pytest

from keras_cluster.optimizers import keras_internals


def compiled_model():
    inputs = keras.Input((2,))
    hidden = keras.Sequential([keras.layers.Dense(3, name="inner")], name="block")(inputs)
    outputs = [keras.layers.Dense(1, name="a")(hidden), keras.layers.Dense(2, name="b")(hidden)]
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss=["mse", "mae"], loss_weights=[0.5, 2.0])
    return model


def test_compiled_losses_lists_each_output_loss():
    model = compiled_model()
    with pytest.raises(ValueError, match="compiled with a loss"):
        keras_internals.compiled_losses(model)  # not built before the first compute_loss
    x = np.ones((4, 2))
    model.compute_loss(x, [np.zeros((4, 1)), np.zeros((4, 2))], model(x))
    losses = keras_internals.compiled_losses(model)
    assert [(path, weight) for path, _, weight, _ in losses] == [((0,), 0.5), ((1,), 2.0)]
    assert [loss.fn for _, loss, _, _ in losses] == [
        keras.losses.mean_squared_error,
        keras.losses.mean_absolute_error,
    ]


def test_update_loss_tracker_feeds_the_loss_metric():
    model = compiled_model()
    keras_internals.update_loss_tracker(model, 3.0, 2)
    keras_internals.update_loss_tracker(model, 6.0, 1)
    assert float(model.get_metrics_result()["loss"]) == pytest.approx(4.0)


def test_all_layers_flattens_nested_models():
    names = [layer.name for layer in keras_internals.all_layers(compiled_model())]
    assert {"block", "inner", "a", "b"} <= set(names)


def test_compile_train_function_leaves_the_model_as_it_was():
    model = compiled_model()
    own = model.train_function
    calls = []
    function = keras_internals.compile_train_function(model, lambda data: calls.append(data))
    assert model.train_function is own and "train_step" not in model.__dict__
    assert callable(function) and function is not own


def test_layers_with_training_argument_skips_containers():
    inner = keras.Sequential([keras.layers.Dense(2), keras.layers.Dropout(0.1, name="drop")])
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="norm")(inner(inputs)))
    names = [layer.name for layer in keras_internals.layers_with_training_argument(model)]
    assert set(names) == {"drop", "norm"}
    assert inner.name not in names and model.name not in names


class NoisyDense(keras.layers.Dense):
    """A Dense subclass whose `call` uses `training`: not covered by the exact-type list."""

    def call(self, inputs, training=None):
        outputs = super().call(inputs)
        return outputs + 1.0 if training else outputs


def test_layers_with_training_argument_skips_only_the_exact_inert_types():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, name="dense")(inputs)
    hidden = keras.layers.EinsumDense("ab,bc->ac", output_shape=3, name="einsum")(hidden)
    model = keras.Model(inputs, NoisyDense(2, name="noisy")(hidden))
    names = [layer.name for layer in keras_internals.layers_with_training_argument(model)]
    assert names == ["noisy"]


@pytest.mark.parametrize("layer_type", keras_internals.TRAINING_ARGUMENT_UNUSED)
def test_training_argument_unused_by_the_listed_keras_layers(layer_type):
    # The list holds only layers whose `call` reads `training` nowhere but in its signature
    # (a Keras release that starts using it fails here), and whose outputs agree in both modes.
    assert "training" in inspect.signature(layer_type.call).parameters
    function = ast.parse(textwrap.dedent(inspect.getsource(layer_type.call))).body[0]
    names = {
        node.id
        for statement in function.body
        for node in ast.walk(statement)
        if isinstance(node, ast.Name)
    }
    assert "training" not in names and "locals" not in names and "kwargs" not in names
    if layer_type is keras.layers.Dense:
        layer = layer_type(3, activation="tanh")
    else:
        layer = layer_type("ab,bc->ac", output_shape=3, bias_axes="c", activation="tanh")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_array_equal(layer(x, training=True), layer(x, training=False))
