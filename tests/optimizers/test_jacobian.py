import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cluster.optimizers.jacobian import (
    JACOBIAN_BUDGET,
    default_chunk_rows,
    gauss_newton_sums,
    output_jacobian,
    output_vjp,
)
from tests.optimizers.reference import flat_weights, numpy_net, tiny_data, tiny_model


def test_jacobian_matches_finite_differences():
    x, _ = tiny_data(n=5)
    model = tiny_model(outputs=2)
    weights = [tf.convert_to_tensor(v.value) for v in model.trainable_variables]
    jacobian = output_jacobian(model, weights, [], tf.constant(x)).numpy()
    theta = flat_weights(model)
    sizes = [int(np.prod(w.shape)) for w in model.get_weights()]

    shapes = [w.shape for w in model.get_weights()]

    def outputs(t):
        pieces = np.split(t, np.cumsum(sizes)[:-1])
        model.set_weights([p.reshape(shape) for p, shape in zip(pieces, shapes, strict=True)])
        return np.asarray(model(x))

    eps = 1e-6
    columns = [
        (outputs(theta + eps * e) - outputs(theta - eps * e)) / (2 * eps)
        for e in np.eye(len(theta))
    ]
    np.testing.assert_allclose(jacobian, np.stack(columns, axis=-1), atol=1e-8)


def test_jacobian_of_dict_inputs_and_two_outputs_matches_per_example_gradients():
    # Rows of the flattened outputs in order: output "wide" (3 values) then "narrow" (1).
    keras.backend.set_floatx("float64")
    try:
        inputs = {"a": keras.Input((2,), name="a"), "b": keras.Input((3,), name="b")}
        hidden = keras.layers.Dense(4, "tanh")(
            keras.layers.Concatenate()([inputs["a"], inputs["b"]])
        )
        wide = keras.layers.Dense(3)(hidden)
        narrow = keras.layers.Dense(1)(inputs["b"])
        model = keras.Model(inputs, [wide, narrow])
    finally:
        keras.backend.set_floatx("float32")
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(4, 2)), "b": rng.normal(size=(4, 3))}
    weights = [tf.convert_to_tensor(v.value) for v in model.trainable_variables]
    jacobian = output_jacobian(model, weights, [], x).numpy()
    assert jacobian.shape == (4, 4, sum(int(np.prod(w.shape)) for w in weights))

    for i in range(4):
        example = {key: tf.constant(value[i : i + 1]) for key, value in x.items()}
        for k in range(4):
            with tf.GradientTape() as tape:
                tape.watch(weights)
                out = model.stateless_call(weights, [], example)[0]
                value = tf.concat([out[0][0], out[1][0]], 0)[k]
            grads = tape.gradient(value, weights, unconnected_gradients="zero")
            expected = np.concatenate([g.numpy().ravel() for g in grads])
            np.testing.assert_allclose(jacobian[i, k], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("chunk_rows", [1, 3, 7, 20, 64])
def test_chunked_sums_equal_full_batch_formula(chunk_rows):
    x, y = tiny_data(n=20)
    model = tiny_model()
    theta = flat_weights(model)
    rng = np.random.default_rng(3)
    scale = rng.uniform(0.5, 2.0, (20, 1))
    out, jac = numpy_net(theta, x)
    half_gradient = scale**2 * (out[:, None] - y)
    weights = [tf.convert_to_tensor(v.value) for v in model.trainable_variables]

    @tf.function(input_signature=[tf.TensorSpec((None, 2), "float64")] * 1)
    def sums(inputs):  # batch size unknown at trace time: the chunk loop is taken
        return gauss_newton_sums(
            model, weights, [], inputs, tf.constant(scale), tf.constant(half_gradient), chunk_rows
        )

    curvature, gradient = (np.asarray(t) for t in sums(tf.constant(x)))
    rows = scale * jac
    np.testing.assert_allclose(curvature, rows.T @ rows, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gradient, jac.T @ half_gradient[:, 0], rtol=1e-12, atol=1e-12)

    # half_gradient=None: the curvature alone, through the chunk loop and in one chunk.
    @tf.function(input_signature=[tf.TensorSpec((None, 2), "float64")])
    def curvature_only(inputs):
        return gauss_newton_sums(model, weights, [], inputs, tf.constant(scale), None, chunk_rows)

    for call in (curvature_only, lambda inputs: gauss_newton_sums(
            model, weights, [], inputs, tf.constant(scale), None, chunk_rows)):  # fmt: skip
        only, no_gradient = call(tf.constant(x))
        assert no_gradient is None
        np.testing.assert_allclose(np.asarray(only), rows.T @ rows, rtol=1e-12, atol=1e-12)


def test_default_chunk_rows_holds_the_budget():
    assert default_chunk_rows(4801, 1) == JACOBIAN_BUDGET // 4801
    assert default_chunk_rows(4801, 10) * 4801 * 10 <= JACOBIAN_BUDGET
    assert default_chunk_rows(10**8, 1) == 1
    assert keras.backend.floatx() == "float32"


def test_output_vjp_equals_the_jacobian_contracted_with_the_cotangent():
    x, _ = tiny_data(n=6)
    model = tiny_model(outputs=2)
    weights = [tf.convert_to_tensor(v.value) for v in model.trainable_variables]
    cotangent = np.random.default_rng(2).normal(size=(6, 2))
    jacobian = output_jacobian(model, weights, [], tf.constant(x)).numpy()
    got = output_vjp(model, weights, [], tf.constant(x), tf.constant(cotangent)).numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.einsum("nk,nkp->p", cotangent, jacobian), rtol=1e-10)
