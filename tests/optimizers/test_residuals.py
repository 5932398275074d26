import keras
import numpy as np
import pytest

from keras_cluster.optimizers.residuals import least_squares_terms, weight_penalties


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_residuals_reproduce_compiled_loss_with_weights(reduction):
    inputs = keras.Input((2,))
    a = keras.layers.Dense(3, name="a")(inputs)
    b = keras.layers.Dense(2, name="b")(inputs)
    model = keras.Model(inputs, [a, b])
    model.compile(
        loss=[keras.losses.MeanSquaredError(reduction=reduction)] * 2, loss_weights=[0.3, 2.0]
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 2))
    y = [rng.normal(size=(6, 3)), rng.normal(size=(6, 2))]
    weight = rng.uniform(0.5, 2.0, 6)
    y_pred = model(x)
    expected = float(model.compute_loss(x, y, y_pred, weight))
    sqrt_coef, targets = least_squares_terms(model, y_pred, y, weight)
    flat = np.concatenate([np.asarray(t) for t in y_pred], axis=1)
    residuals = np.asarray(sqrt_coef) * (flat - np.asarray(targets))
    np.testing.assert_allclose(np.sum(residuals**2), expected, rtol=1e-6)


def test_weight_penalties_are_the_l2_factors_and_match_keras_losses():
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L2(0.5)),
            keras.layers.Dense(1, bias_regularizer=keras.regularizers.L1L2(l2=0.25)),
        ]
    )
    penalties = weight_penalties(model)
    assert penalties == [0.5, 0.0, 0.0, 0.25]
    expected = sum(
        p * np.sum(np.asarray(v) ** 2)
        for p, v in zip(penalties, model.trainable_variables, strict=True)
    )
    model(np.ones((1, 2)))
    np.testing.assert_allclose(
        float(np.sum([np.asarray(loss) for loss in model.losses])), expected, rtol=1e-6
    )


@pytest.mark.parametrize(
    "regularizer, match",
    [
        (keras.regularizers.L1(0.1), "L1 .*dense"),
        (keras.regularizers.L1L2(l1=0.1), "L1L2"),
        (keras.regularizers.OrthogonalRegularizer(), "OrthogonalRegularizer"),
    ],
)
def test_non_quadratic_weight_regularizer_raises(regularizer, match):
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(2, kernel_regularizer=regularizer, name="dense")]
    )
    with pytest.raises(ValueError, match=f"Received: regularizer=.*{match}"):
        weight_penalties(model)
