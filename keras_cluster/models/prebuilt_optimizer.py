"""`model.compile` with the optimizer's variables created at once, outside `fit`'s traced step.

Without a `tf.distribute` strategy of its own, Keras 3 (TensorFlow backend) builds the optimizer
lazily, while `fit` traces its train step. Its slot variables (momentum, velocity, ...) are then
created inside the `tf.function` as lifted initializers, each with a `tf.cond` whose branch graphs
and the train step's graph stay alive after the model, the optimizer and the estimator holding
them are dropped: every fit left them behind (a DEC fit with a small autoencoder: 42 branch
graphs and ~1,800 graph operations). Building the optimizer on the model's trainable variables
right after `compile`, as Keras itself does when a strategy is set
(`Trainer._symbolic_build`), keeps variable creation out of the trace.

This is the one place of the package that works around it; see keras-team/keras#20245 and
keras-team/tf-keras#286 (memory growing over repeated `fit` calls).
"""


def compile_prebuilt(model, **compile_kwargs):
    """`model.compile(**compile_kwargs)`, then `model.optimizer.build(model.trainable_variables)`.

    The model's variables must exist (a functional model, or a subclassed one built in its
    `__init__`), since the optimizer's slots are made for them.

    Args:
        model: a `keras.Model` whose layers are built.
        **compile_kwargs: passed to `model.compile`.

    Returns:
        `model`, compiled, its optimizer built.

    Example:

    >>> import keras
    >>> inputs = keras.Input((3,))
    >>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    >>> model = compile_prebuilt(model, optimizer="adam", loss="mse")
    >>> model.optimizer.built
    True
    """
    model.compile(**compile_kwargs)
    model.optimizer.build(model.trainable_variables)
    return model
