import keras
import numpy as np
import pytest

from keras_cluster.layers import CentroidDistances


def test_matches_float64_distances_and_round_trips(rng, tmp_path):
    centroids = rng.normal(size=(4, 3)) * 5
    z = rng.normal(size=(20, 3)) * 5
    layer = CentroidDistances(4, initial_centroids=centroids, trainable_centroids=False)
    got = keras.ops.convert_to_numpy(layer(z.astype("float32")))
    expected = np.sum((z[:, None] - centroids[None]) ** 2, axis=-1)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    assert not layer.trainable_weights

    inputs = keras.Input((3,))
    model = keras.Model(inputs, CentroidDistances(4, initial_centroids=centroids)(inputs))
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(restored.predict(z, verbose=0), model.predict(z, verbose=0))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="n_clusters"):
        CentroidDistances(0)
    with pytest.raises(ValueError, match="initial_centroids"):
        CentroidDistances(3, initial_centroids=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="initial_centroids"):
        CentroidDistances(2, initial_centroids=np.zeros((2, 4)))(np.zeros((1, 3), "float32"))
