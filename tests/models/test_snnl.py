import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import logsumexp

from keras_cluster.models import SoftNearestNeighborModel


def reference_snnl(labels, features, temperature):
    """Cosine SNNL in float64 log space, rows without a same-class neighbour left out."""
    z = np.asarray(features, np.float64)
    unit = z / np.linalg.norm(z, axis=1, keepdims=True)
    logits = -(1.0 - unit @ unit.T) / temperature
    rows = []
    for i in range(len(z)):
        others = np.arange(len(z)) != i
        same = others & (labels == labels[i])
        if same.any():
            rows.append(logsumexp(logits[i, others]) - logsumexp(logits[i, same]))
    return np.mean(rows)


def classifier(l2=0.0):
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(
        8, activation="tanh", kernel_regularizer=regularizer, name="hidden"
    )(inputs)
    code = keras.layers.Dense(4, name="code")(hidden)
    outputs = keras.layers.Dense(3, activation="softmax", name="probs")(code)
    return keras.Model(inputs, outputs)


def data(rng, n=96):
    y = rng.integers(0, 3, size=n)
    x = (np.eye(3)[y] @ rng.normal(size=(3, 6)) + 0.5 * rng.normal(size=(n, 6))).astype("float32")
    return x, y


def test_loss_is_primary_plus_weighted_snnl_plus_l2_penalty(rng):
    x, y = data(rng, 32)
    net = classifier(l2=0.01)
    model = SoftNearestNeighborModel(net, ["hidden", "code"], weight=[0.5, 2.0], temperature=0.3)
    model.compile("sgd", "sparse_categorical_crossentropy")
    y_pred = model(x, training=True)
    loss = float(model.compute_loss(x, y, y_pred, training=True))

    probs = keras.ops.convert_to_numpy(net(x)).astype(np.float64)
    cross_entropy = -np.mean(np.log(probs[np.arange(32), y]))
    hidden = keras.Model(net.input, net.get_layer("hidden").output)(x)
    code = keras.Model(net.input, net.get_layer("code").output)(x)
    snnl = 0.5 * reference_snnl(y, hidden, 0.3) + 2.0 * reference_snnl(y, code, 0.3)
    kernel = keras.ops.convert_to_numpy(net.get_layer("hidden").kernel)
    penalty = 0.01 * np.sum(np.square(kernel))
    assert penalty > 1e-3
    np.testing.assert_allclose(loss, cross_entropy + snnl + penalty, rtol=1e-4)


def test_adamw_weight_decay_reaches_the_weights(rng):
    x, y = data(rng, 32)
    steps = {}
    for name, optimizer in (
        ("adam", keras.optimizers.Adam(0.01)),
        ("adamw", keras.optimizers.AdamW(0.01, weight_decay=0.5)),
    ):
        keras.utils.set_random_seed(1)
        model = SoftNearestNeighborModel(classifier(), "code", weight=1.0)
        model.compile(optimizer, "sparse_categorical_crossentropy")
        before = keras.ops.convert_to_numpy(model.base_model.get_layer("hidden").kernel)
        model.train_on_batch(x, y)
        steps[name] = keras.ops.convert_to_numpy(model.base_model.get_layer("hidden").kernel)
    np.testing.assert_allclose(steps["adamw"] - steps["adam"], -0.01 * 0.5 * before, atol=1e-6)


def test_fit_with_separate_labels_and_unlabelled_rows(rng):
    x, y = data(rng)
    inputs = keras.Input((6,))
    code = keras.layers.Dense(2, name="code")(inputs)
    autoencoder = keras.Model(inputs, keras.layers.Dense(6)(code))
    model = SoftNearestNeighborModel(autoencoder, "code", weight=1.0, temperature=0.5)
    model.compile(keras.optimizers.Adam(0.05), "mse", jit_compile=True)
    labels = np.where(np.arange(len(y)) % 4 == 0, y, -1)
    history = model.fit(
        x, {"target": x, "snnl_labels": labels}, batch_size=48, epochs=8, verbose=0
    ).history
    assert history["snnl"][-1] < 0.8 * history["snnl"][0]
    assert np.asarray(model.predict(x, verbose=0)).shape == x.shape
    np.testing.assert_allclose(
        model.evaluate(x, x, verbose=0, return_dict=True)["loss"],
        np.mean((np.asarray(model.predict(x, verbose=0)) - x) ** 2),
        rtol=1e-4,
    )


def test_labelled_rows_only_enter_snnl(rng):
    x, y = data(rng, 40)
    net = classifier()
    model = SoftNearestNeighborModel(net, "code", weight=1.0, temperature=0.5)
    model.compile("sgd", "sparse_categorical_crossentropy")
    labels = np.where(np.arange(40) % 2 == 0, y, -1)
    outputs = model(x, training=True)
    model.compute_loss(x, {"target": y, "snnl_labels": labels}, outputs, training=True)
    code = keras.Model(net.input, net.get_layer("code").output)(x)
    kept = labels >= 0
    np.testing.assert_allclose(
        float(model.snnl_tracker.result()),
        reference_snnl(y[kept], np.asarray(code)[kept], 0.5),
        rtol=1e-4,
    )


def test_learned_temperature_always_minimises_snnl(rng):
    x, y = data(rng, 48)
    grads = {}
    for weight in (0.5, -0.5):
        keras.utils.set_random_seed(2)
        model = SoftNearestNeighborModel(
            classifier(), "code", weight=weight, temperature=2.0, learn_temperature=True
        )
        model.compile("sgd", "sparse_categorical_crossentropy")
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True), training=True)
        grads[weight] = float(tape.gradient(loss, model.log_temperature))
    assert grads[0.5] != 0.0
    np.testing.assert_allclose(grads[-0.5], grads[0.5], rtol=1e-5)

    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=48, epochs=5, verbose=0)
    assert float(model.temperature) != pytest.approx(2.0)


def test_save_and_load_round_trip(rng, tmp_path):
    x, y = data(rng)
    model = SoftNearestNeighborModel(classifier(), "code", weight=0.1, learn_temperature=True)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    path = tmp_path / "snnl.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored, SoftNearestNeighborModel)
    assert restored.layer_names == ["code"] and restored.learn_temperature
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(float(restored.temperature), float(model.temperature))
    config = model.get_config()
    clone = SoftNearestNeighborModel.from_config(config)
    assert clone.get_config()["weight"] == 0.1


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"layer_names": "nope"}, "layer_names"),
        ({"layer_names": []}, "layer_names"),
        ({"weight": [1.0, 2.0]}, "weight"),
        ({"temperature": 0}, "temperature"),
        ({"distance": "l1"}, "distance"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    arguments = {"layer_names": "code", **kwargs}
    with pytest.raises(ValueError, match=message):
        SoftNearestNeighborModel(classifier(), **arguments)
    with pytest.raises(ValueError, match="model"):
        SoftNearestNeighborModel(object(), "code")
