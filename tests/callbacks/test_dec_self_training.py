import keras
import numpy as np
import pytest

from keras_cluster.callbacks import DECSelfTraining
from keras_cluster.losses import DECLoss
from keras_cluster.models import build_autoencoder, build_dec_model


def reference_q(z, mu):
    k = 1.0 / (1.0 + ((z[:, None] - mu[None]) ** 2).sum(-1))
    return k / k.sum(1, keepdims=True)


def reference_p(q):
    w = q**2 / q.sum(0)
    return w / w.sum(1, keepdims=True)


def _model(rng, x, n_clusters=3):
    _, encoder = build_autoencoder(x.shape[1], dims=(6, 2))
    model = build_dec_model(encoder, n_clusters)
    model.get_layer("clustering").set_centroids(rng.normal(size=(n_clusters, 2)))
    return model, encoder


def test_target_is_the_papers_p_over_the_whole_dataset(rng):
    x = rng.normal(size=(50, 4)).astype("float32")
    model, encoder = _model(rng, x)
    callback = DECSelfTraining(x, 3, update_interval=5)
    callback.set_model(model)
    callback.update_target()
    z = keras.ops.convert_to_numpy(encoder(x)).astype("float64")
    mu = keras.ops.convert_to_numpy(model.get_layer("clustering").centroids).astype("float64")
    np.testing.assert_allclose(callback.target.numpy(), reference_p(reference_q(z, mu)), rtol=2e-4)


def test_dataset_pairs_rows_of_x_with_their_target(rng):
    x = rng.normal(size=(10, 3)).astype("float32")
    callback = DECSelfTraining(x, 2)
    callback.target.assign(np.arange(20, dtype="float32").reshape(10, 2))
    for x_batch, p_batch in callback.make_dataset(batch_size=4, seed=1).take(3):
        rows = [int(np.flatnonzero(np.all(x == row, axis=1))[0]) for row in x_batch.numpy()]
        np.testing.assert_array_equal(p_batch.numpy(), np.arange(20).reshape(10, 2)[rows])
    x_batch, targets = next(iter(callback.make_dataset(batch_size=4, reconstruction=True)))
    np.testing.assert_array_equal(targets["reconstruction"].numpy(), x_batch.numpy())


def _frozen_model(rng, x):
    """A DEC model whose weights never move (learning rate 0): its assignments never change."""
    model, _ = _model(rng, x)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=DECLoss())
    return model


def _self_train(model, callback, epochs):
    return model.fit(
        callback.make_dataset(8),
        steps_per_epoch=callback.update_interval,
        epochs=epochs,
        callbacks=[callback],
        verbose=0,
        shuffle=False,
    )


def test_stops_when_fewer_than_tol_assignments_change(rng):
    x = rng.normal(size=(40, 4)).astype("float32")
    model = _frozen_model(rng, x)
    callback = DECSelfTraining(x, 3, update_interval=4, tol=0.001)
    _self_train(model, callback, epochs=10)
    # Frozen weights: nothing changes at the second update (batch 4), which stops training.
    assert callback.converged and callback.n_updates == 2 and callback.delta_label == 0.0
    assert callback.n_batches == 5
    # The same instance serves a second fit: its state is reset.
    _self_train(model, callback, epochs=10)
    assert callback.n_updates == 2


def test_runs_to_the_maximum_when_tol_is_zero(rng):
    x = rng.normal(size=(40, 4)).astype("float32")
    model = _frozen_model(rng, x)
    callback = DECSelfTraining(x, 3, update_interval=4, tol=0.0)
    history = _self_train(model, callback, epochs=3)
    assert not callback.converged and callback.n_batches == 12 and callback.n_updates == 3
    assert history.history["delta_label"] == [0.0, 0.0]


def test_max_iter_stops_mid_interval(rng):
    x = rng.normal(size=(40, 4)).astype("float32")
    model = _frozen_model(rng, x)
    callback = DECSelfTraining(x, 3, update_interval=4, tol=0.0, max_iter=6)
    _self_train(model, callback, epochs=10)
    # Updates at batches 0 and 4; the seventh batch is never drawn.
    assert callback.n_batches == 6 and callback.n_updates == 2 and not callback.converged


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": np.zeros(4)}, "`x` should be 2-D"),
        ({"update_interval": 0}, "update_interval"),
        ({"tol": 1.5}, "tol"),
        ({"max_iter": -1}, "max_iter=-1"),
        ({"max_iter": 2.5}, "max_iter=2.5"),
    ],
)
def test_bad_arguments(kwargs, match):
    arguments = {"x": np.zeros((4, 2)), "n_clusters": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        DECSelfTraining(**arguments)


def test_trains_under_xla_and_reads_idec_through_its_clustering_output(rng):
    from keras_cluster.models import build_idec_model

    x = rng.normal(size=(40, 4)).astype("float32")
    autoencoder, encoder = build_autoencoder(4, dims=(6, 2))
    model = build_idec_model(autoencoder, encoder, 3)
    model.compile(
        optimizer="adam",
        loss={"clustering": DECLoss(), "reconstruction": "mse"},
        jit_compile=True,
    )
    callback = DECSelfTraining(x, 3, update_interval=2, tol=0.0)
    history = model.fit(
        callback.make_dataset(8, reconstruction=True),
        steps_per_epoch=2,
        epochs=2,
        callbacks=[callback],
        verbose=0,
        shuffle=False,
    )
    assert np.isfinite(history.history["loss"]).all() and callback.n_updates == 2
    q = keras.ops.convert_to_numpy(model(x)["clustering"])
    np.testing.assert_allclose(callback.soft_assignments(), q, rtol=1e-5, atol=1e-7)


def test_target_over_a_stream_equals_the_target_over_the_array(rng):
    import tensorflow as tf

    x = rng.normal(size=(50, 4)).astype("float32")
    model, encoder = _model(rng, x)
    streamed = DECSelfTraining(tf.data.Dataset.from_tensor_slices(x).batch(7), 3)
    streamed.set_model(model)
    streamed.update_target()
    z = keras.ops.convert_to_numpy(encoder(x)).astype("float64")
    mu = keras.ops.convert_to_numpy(model.get_layer("clustering").centroids.value)
    q = reference_q(z, mu.astype("float64"))
    np.testing.assert_allclose(streamed.target.numpy(), reference_p(q), rtol=2e-4)
    np.testing.assert_array_equal(streamed.labels, q.argmax(1))
    # The pairs of the training stream: rows of the stream with their own rows of P.
    for x_batch, p_batch in streamed.make_dataset(shuffle=False).take(9):
        rows = [int(np.flatnonzero(np.all(x == row, axis=1))[0]) for row in x_batch.numpy()]
        np.testing.assert_allclose(p_batch.numpy(), streamed.target.numpy()[rows])


def test_state_is_saved_with_the_model_weights_and_restored(rng, tmp_path):
    x = rng.normal(size=(40, 4)).astype("float32")
    model = _frozen_model(rng, x)
    callback = DECSelfTraining(x, 3, update_interval=4, tol=0.0)
    _self_train(model, callback, epochs=2)
    path = str(tmp_path / "model.weights.h5")
    model.save_weights(path)
    other = _frozen_model(rng, x)
    restored = DECSelfTraining(x, 3, update_interval=4, tol=0.0)
    restored.set_model(other)
    other.load_weights(path)
    assert (restored.n_batches, restored.n_updates) == (8, 2)
    np.testing.assert_array_equal(restored.labels, callback.labels)
    np.testing.assert_array_equal(restored.target.numpy(), callback.target.numpy())
