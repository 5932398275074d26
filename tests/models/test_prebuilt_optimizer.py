import gc

import keras
import numpy as np

from keras_cluster.models.prebuilt_optimizer import compile_prebuilt


def live_branch_graphs():
    """The `tf.cond` branch graphs alive in the process (one pair per lazily built slot)."""
    gc.collect()
    return sum(type(o).__name__ == "CondBranchFuncGraph" for o in gc.get_objects())


def fit_and_drop(x, compile_model):
    inputs = keras.Input((x.shape[1],))
    model = keras.Model(inputs, keras.layers.Dense(x.shape[1])(keras.layers.Dense(2)(inputs)))
    compile_model(model, optimizer=keras.optimizers.Adam(), loss="mse")
    model.fit(x, x, batch_size=16, epochs=1, verbose=0)


def test_fits_leave_no_optimizer_graphs_behind(rng):
    """Plain `compile` leaves 2 branch graphs per optimizer slot behind each fit; ours none."""
    x = rng.normal(size=(32, 4)).astype("float32")
    fit_and_drop(x, compile_prebuilt)
    before = live_branch_graphs()
    for _ in range(3):
        fit_and_drop(x, compile_prebuilt)
    assert live_branch_graphs() == before


def test_the_optimizer_is_built_on_the_models_variables():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    assert compile_prebuilt(model, optimizer="sgd", loss="mse") is model
    assert model.optimizer.built
    assert [v.path for v in model.optimizer._trainable_variables] == [
        v.path for v in model.trainable_variables
    ]
    np.testing.assert_array_equal(model.optimizer.iterations.numpy(), 0)
