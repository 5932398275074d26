"""The private Keras surface that the Levenberg-Marquardt step reads, and nothing else.

Keras's `train_step` hands an optimizer gradients only (a Levenberg-Marquardt step needs the
model's residuals and their Jacobian: keras-team/keras#16498), and a callback is told of the
end of `fit` only when it finishes normally (keras-team/keras#12309). Working around both needs
a few attributes that Keras does not document; they are all read here, so that a Keras release
that renames one breaks one file, and `tests/optimizers/test_keras_internals.py` says which.
"""

import keras
from keras import ops
from keras.src.models.functional import Functional


def compiled_losses(model):
    """The losses passed to `model.compile`, one entry per model output that has one.

    Args:
        model: A compiled Keras model whose compiled loss has been built (it is built by the
            first `model.compute_loss`, as `train_step` does).

    Returns:
        A list of `(path, loss, loss_weight, name)`: the output's path in the structure of
        `y_pred` (a tuple), the loss object (a `keras.losses.LossFunctionWrapper` for the
        built-in losses), its weight (`None` for 1) and the output's name.

    Raises:
        ValueError: If the model was compiled without a loss.
    """
    compile_loss = getattr(model, "_compile_loss", None)
    if compile_loss is None or not compile_loss.built:
        raise ValueError(
            "The Levenberg-Marquardt step needs a model compiled with a loss, e.g. `loss='mse'`."
        )
    return [
        (tuple(path), loss, loss_weight, name)
        for path, loss, loss_weight, name in compile_loss._flat_losses
    ]


def update_loss_tracker(model, loss, batch_size):
    """Adds the step's loss to the model's `loss` metric, as Keras's own `train_step` does.

    Args:
        model: A compiled Keras model.
        loss: Scalar tensor, the loss of this replica's batch.
        batch_size: Scalar tensor, the number of examples in this replica's batch.
    """
    tracker = model._loss_tracker
    tracker.update_state(ops.cast(loss, tracker.dtype), sample_weight=batch_size)


def all_layers(model):
    """Every layer inside `model` (nested models flattened), excluding `model` itself."""
    return list(model._flatten_layers(include_self=False))


# Keras layers whose `call` takes a `training` argument and ignores it (checked against each
# Keras release by `tests/optimizers/test_keras_internals.py`). Exact types: a subclass may
# override `call` and use the argument.
TRAINING_ARGUMENT_UNUSED = (keras.layers.Dense, keras.layers.EinsumDense)


def layers_with_training_argument(model):
    """The layers of `model` (itself included) whose `call` takes a `training` argument.

    Sequential and functional models, which only pass `training` on to their layers, are
    left out, as are the layers of `TRAINING_ARGUMENT_UNUSED` (exact types).
    """
    containers = (keras.Sequential, Functional)
    return [
        layer
        for layer in [model, *all_layers(model)]
        if getattr(layer, "_call_has_training_arg", False)
        and not isinstance(layer, containers)
        and type(layer) not in TRAINING_ARGUMENT_UNUSED
    ]


def compile_train_function(model, step):
    """The train function Keras compiles for `step`, without changing the model's own.

    `model.make_train_function` compiles `model.train_step`; it is pointed at `step` only for
    the duration of the call, and the model's previous `train_function` is put back.

    Args:
        model: A compiled Keras model (TensorFlow backend).
        step: Callable `step(data) -> logs`, run for every batch.

    Returns:
        The function `fit` calls with the data iterator (it runs `steps_per_execution` steps).
    """
    previous = model.train_function
    model.train_step = step
    try:
        model.make_train_function(force=True)
        return model.train_function
    finally:
        model.__dict__.pop("train_step", None)
        model.train_function = previous
