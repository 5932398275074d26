"""The Jacobian of a model's outputs, and the Gauss-Newton sums over row chunks of a batch."""

import keras
import tensorflow as tf
from keras import ops

JACOBIAN_BUDGET = 2**22
"""Default number of Jacobian entries (examples x outputs x weights) held at once."""


def output_jacobian(model, weights, non_trainable, x):
    """Jacobian of the flattened outputs with respect to `weights`, one row at a time.

    Every row `J[i, k, :]` is the gradient of one output `k` of one example `i`, all of them
    vectorised by one `tf.vectorized_map` over the (example, output) pairs: memory grows as
    O(batch x outputs x weights), not with batch^2 as one `tape.jacobian` of the batch's outputs
    would (each output's backward pass there runs over the whole batch). One level of
    vectorisation, not a `tape.jacobian` per example inside `vectorized_map`: the nested form
    took about twice as long to trace and run once (0.20 s against 0.11 s, medians of 4, for
    the digits classifier 64-32-10 on 32 examples), most of the first step of a small model.

    Formula:
    ```
    J[i, k, p] = d flat(model(x_i))[k] / d theta_p
    ```

    Args:
        model: A Keras model whose layers act on each example independently.
        weights: List of tensors, the trainable weights to differentiate with respect to.
        non_trainable: List of tensors, the non-trainable weights.
        x: The batch of inputs (any structure).

    Returns:
        A tensor of shape `(batch, total output size, total number of weights)`, in the
        weights' dtype.

    Example:
    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    >>> weights = [v.value for v in model.trainable_variables]
    >>> tuple(output_jacobian(model, weights, [], np.ones((4, 2), "float32")).shape)
    (4, 3, 9)
    """
    x = keras.tree.map_structure(tf.convert_to_tensor, x)
    # The output size of one example: the static shape of the first example's outputs (a
    # forward pass whose result feeds nothing else).
    first = keras.tree.map_structure(lambda t: t[:1], x)
    probe = flat_outputs(
        model.stateless_call(weights, non_trainable, first, training=False)[0], dtype=None
    )
    size = probe.shape[1]
    examples = ops.shape(keras.tree.flatten(x)[0])[0]
    # Pair m = i * size + k: example i repeated, and the selector e_k of its output k.
    repeated = keras.tree.map_structure(lambda t: tf.repeat(t, size, axis=0), x)
    selectors = tf.tile(tf.eye(size, dtype=probe.dtype), [examples, 1])

    def one_row(pair):
        example, selector = pair
        example = keras.tree.map_structure(lambda t: t[None], example)
        local = [tf.identity(w) for w in weights]  # the traced loop body's own copies to watch
        with tf.GradientTape() as tape:
            tape.watch(local)
            outputs = model.stateless_call(local, non_trainable, example, training=False)[0]
            chosen = ops.sum(flat_outputs(outputs, dtype=None)[0] * selector)
        pieces = tape.gradient(chosen, local, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return ops.concatenate([ops.reshape(p, (-1,)) for p in pieces], axis=0)

    rows = tf.vectorized_map(one_row, (repeated, selectors))
    return ops.reshape(rows, (examples, size, rows.shape[-1]))


def output_vjp(model, weights, non_trainable, x, cotangent):
    """`J^T b` over the whole batch in one backward pass, without forming `J`, in float64.

    Formula:
    ```
    J^T b = sum_i J_i^T b_i = d/d theta sum_{i,k} flat(model(x_i))[k] * b[i, k]
    ```

    Args:
        model: A Keras model.
        weights: List of tensors, the trainable weights.
        non_trainable: List of tensors, the non-trainable weights.
        x: The batch of inputs (any structure), `N` examples.
        cotangent: Tensor `b` of shape `(N, total output size)`, held constant.

    Returns:
        Float64 tensor of shape `(P,)`, the weights flattened and concatenated in order.

    Example:
    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.set_weights([np.zeros((2, 1)), np.zeros(1)])
    >>> weights = [v.value for v in model.trainable_variables]
    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    >>> np.asarray(output_vjp(model, weights, [], x, np.ones((2, 1), "float32"))).tolist()
    [4.0, 6.0, 2.0]
    """
    local = [tf.identity(w) for w in weights]
    with tf.GradientTape() as tape:
        tape.watch(local)
        outputs = model.stateless_call(local, non_trainable, x, training=False)[0]
        flat = flat_outputs(outputs, dtype=None)
        total = ops.sum(flat * ops.cast(tf.stop_gradient(cotangent), flat.dtype))
    pieces = tape.gradient(total, local, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return ops.concatenate([ops.reshape(ops.cast(p, "float64"), (-1,)) for p in pieces], 0)


def default_chunk_rows(num_weights, num_outputs):
    """Examples per chunk so that one chunk's Jacobian holds about `JACOBIAN_BUDGET` entries."""
    return max(1, JACOBIAN_BUDGET // (num_weights * num_outputs))


def gauss_newton_sums(model, weights, non_trainable, x, row_scale, half_gradient, chunk_rows):
    """`J~^T J~` and `J^T b` summed over chunks of `chunk_rows` examples, in float64.

    `row_scale` is either a diagonal scale `(N, outputs)` or a full factor `F` per example
    `(N, outputs, M)`, whose rows are then `F_i^T J_i` (the generalized Gauss-Newton form
    `J^T F F^T J`). The batch is cut into `ceil(N / chunk_rows)` chunks of equal size (the
    last one padded by repeating an example with a zero scale), evaluated one after the
    other, so that memory is O(chunk_rows x outputs x weights + weights^2) whatever the batch
    size, and shapes stay static under XLA.

    Formula:
    ```
    J~[i, k, :] = row_scale[i, k] * J[i, k, :]
    curvature   = sum_i J~_i^T J~_i           gradient = sum_i J_i^T b_i
    ```
    With `row_scale = sqrt(c)` and `b = c (y_pred - y)`, this is `(J^T J, J^T r)` of the
    residuals `r = sqrt(c) (y_pred - y)`. With `half_gradient=None` only the curvature is
    summed (a gradient taken elsewhere, or none needed).

    Args:
        model: A Keras model whose layers act on each example independently.
        weights: List of tensors, the trainable weights.
        non_trainable: List of tensors, the non-trainable weights.
        x: The batch of inputs (any structure), `N` examples.
        row_scale: Tensor `(N, outputs)` or `(N, outputs, M)` in the weights' dtype.
        half_gradient: None or tensor `(N, outputs)` in the weights' dtype.
        chunk_rows: Int >= 1, examples per chunk.

    Returns:
        `(curvature, gradient)`, float64 tensors of shapes `(P, P)` and `(P,)`; `gradient` is
        None when `half_gradient` is.
    """
    num_weights = sum(_size(w) for w in weights)
    first = keras.tree.flatten(x)[0]
    static_rows = first.shape[0]
    if static_rows is not None and static_rows <= chunk_rows:
        return _chunk_sums(model, weights, non_trainable, x, row_scale, half_gradient)

    rows = ops.shape(first)[0]
    num_chunks = (rows + chunk_rows - 1) // chunk_rows
    per_chunk = (rows + num_chunks - 1) // num_chunks
    positions = ops.arange(num_chunks * per_chunk)
    valid = ops.cast(positions < rows, row_scale.dtype)[:, None]  # (positions, 1)
    gather = ops.minimum(positions, rows - 1)

    with_gradient = half_gradient is not None

    def body(chunk, curvature, *gradient):
        index = gather[chunk * per_chunk : (chunk + 1) * per_chunk]
        mask = valid[chunk * per_chunk : (chunk + 1) * per_chunk]
        xc = keras.tree.map_structure(lambda t: tf.gather(t, index), x)
        part = _chunk_sums(
            model,
            weights,
            non_trainable,
            xc,
            tf.gather(row_scale, index) * ops.reshape(mask, (-1,) + (1,) * (row_scale.ndim - 1)),
            tf.gather(half_gradient, index) * mask if with_gradient else None,
        )
        if with_gradient:
            return chunk + 1, curvature + part[0], gradient[0] + part[1]
        return chunk + 1, curvature + part[0]

    zeros = [ops.zeros((num_weights, num_weights), "float64")]
    if with_gradient:
        zeros.append(ops.zeros((num_weights,), "float64"))
    # parallel_iterations=1: by default a while loop runs up to 10 iterations at once, which
    # would hold 10 chunks' Jacobians and weights^2 products.
    _, curvature, *gradient = tf.while_loop(
        lambda chunk, *_: chunk < num_chunks,
        body,
        (ops.convert_to_tensor(0), *zeros),
        parallel_iterations=1,
    )
    return curvature, gradient[0] if with_gradient else None


def scaled_rows(row_scale, jacobian):
    """The rows `F_i^T J_i` of every example, `(N, M, P)` in the dtype of `row_scale`.

    Args:
        row_scale: Tensor `(N, K)` (a diagonal `F`) or `(N, K, M)` (a full factor per example).
        jacobian: Tensor `(N, K, P)`, cast to the dtype of `row_scale`.
    """
    jacobian = ops.cast(jacobian, row_scale.dtype)
    if len(row_scale.shape) == 3:  # a full factor F per example: rows F^T J
        return tf.einsum("nkm,nkp->nmp", row_scale, jacobian)
    return row_scale[:, :, None] * jacobian


def _chunk_sums(model, weights, non_trainable, x, row_scale, half_gradient):
    jacobian = output_jacobian(model, weights, non_trainable, x)
    gradient = None
    if half_gradient is not None:
        gradient = ops.cast(tf.einsum("nk,nkp->p", half_gradient, jacobian), "float64")
    rows = ops.reshape(scaled_rows(row_scale, jacobian), (-1, jacobian.shape[-1]))
    # Accumulated in the model's dtype (float32: ~4x faster than float64 on CPU); the sums
    # over chunks and the damped system are float64.
    curvature = ops.matmul(ops.transpose(rows), rows)  # faster than matmul(transpose_a) on CPU
    return ops.cast(curvature, "float64"), gradient


def flat_outputs(outputs, dtype="float64"):
    """The model's outputs (any structure) as one `(batch, total output size)` tensor."""
    flat = [ops.reshape(t, (-1, _size(t[0]))) for t in keras.tree.flatten(outputs)]
    flat = ops.concatenate(flat, axis=1) if len(flat) > 1 else flat[0]
    return flat if dtype is None else ops.cast(flat, dtype)


def _size(tensor):
    size = 1
    for dim in tensor.shape:
        size *= dim
    return size
