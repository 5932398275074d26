import os

import keras
import numpy as np
import pytest

from keras_cluster.models import build_autoencoder, pretrain_autoencoder


def test_architecture_is_symmetric_with_linear_ends():
    autoencoder, encoder = build_autoencoder(12, dims=(8, 6, 3))
    names = [layer.name for layer in autoencoder.layers[1:]]
    assert names == ["encoder_0", "encoder_1", "encoder_2", "decoder_2", "decoder_1", "decoder_0"]
    units = [layer.units for layer in autoencoder.layers[1:]]
    assert units == [8, 6, 3, 6, 8, 12]
    activations = {layer.name: layer.activation.__name__ for layer in autoencoder.layers[1:]}
    assert activations["encoder_2"] == "linear" and activations["decoder_0"] == "linear"
    assert activations["encoder_0"] == "relu" and activations["decoder_1"] == "relu"
    assert encoder.output.shape == (None, 3)
    assert encoder.get_layer("encoder_0") is autoencoder.get_layer("encoder_0")


def test_default_dims_are_the_papers():
    autoencoder, encoder = build_autoencoder(784)
    assert [layer.units for layer in encoder.layers[1:]] == [500, 500, 2000, 10]


def test_kernel_regularizer_reaches_the_loss():
    autoencoder, _ = build_autoencoder(
        4, dims=(3, 2), kernel_regularizer=keras.regularizers.L2(0.5)
    )
    autoencoder(np.zeros((1, 4), "float32"))
    expected = sum(
        0.5 * float(np.sum(keras.ops.convert_to_numpy(layer.kernel) ** 2))
        for layer in autoencoder.layers[1:]
    )
    np.testing.assert_allclose(float(sum(autoencoder.losses)), expected, rtol=1e-5)


def _layer_weights(model):
    return {
        layer.name: keras.ops.convert_to_numpy(layer.kernel).copy() for layer in model.layers[1:]
    }


def test_layerwise_pretraining_trains_every_pair_and_lowers_the_error(rng):
    x = rng.random((128, 10)).astype("float32")
    autoencoder, _ = build_autoencoder(10, dims=(8, 4))
    before = _layer_weights(autoencoder)
    initial = float(np.mean((keras.ops.convert_to_numpy(autoencoder(x)) - x) ** 2))
    history = pretrain_autoencoder(
        autoencoder, x, method="layerwise", layerwise_epochs=3, finetune_epochs=20, batch_size=32
    )
    after = _layer_weights(autoencoder)
    for name in before:
        assert not np.allclose(before[name], after[name]), name
    final = float(np.mean((keras.ops.convert_to_numpy(autoencoder(x)) - x) ** 2))
    assert final < 0.5 * initial
    assert len(history.history["loss"]) == 20


def test_layerwise_stage_alone_trains_the_pairs_only(rng):
    """With no fine-tuning, each pair was trained on the output of the encoders below it."""
    x = rng.random((64, 6)).astype("float32")
    autoencoder, _ = build_autoencoder(6, dims=(5, 3))
    before = _layer_weights(autoencoder)
    pretrain_autoencoder(
        autoencoder, x, method="layerwise", layerwise_epochs=2, finetune_epochs=0, batch_size=16
    )
    after = _layer_weights(autoencoder)
    assert all(not np.allclose(before[n], after[n]) for n in before)


def test_end_to_end_pretraining_skips_the_pairs(rng):
    x = rng.random((64, 6)).astype("float32")
    autoencoder, _ = build_autoencoder(6, dims=(5, 3))
    before = _layer_weights(autoencoder)
    pretrain_autoencoder(autoencoder, x, method="end_to_end", layerwise_epochs=0, finetune_epochs=0)
    after = _layer_weights(autoencoder)
    assert all(np.array_equal(before[n], after[n]) for n in before)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "greedy"}, "method"),
        ({"dropout": 1.0}, "dropout"),
        ({"layerwise_epochs": -1}, "layerwise_epochs"),
        ({"finetune_epochs": 2.0}, "finetune_epochs"),
    ],
)
def test_bad_pretraining_arguments(kwargs, match):
    autoencoder, _ = build_autoencoder(3, dims=(2,))
    with pytest.raises(ValueError, match=match):
        pretrain_autoencoder(autoencoder, np.zeros((4, 3), "float32"), **kwargs)


@pytest.mark.parametrize(
    "args, match", [((0,), "input_dim"), ((3, ()), "dims"), ((3, (4, 0)), "dims")]
)
def test_bad_build_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        build_autoencoder(*args)


def test_a_call_finding_its_backup_complete_restores_every_stage_and_trains_nothing(tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 6)).astype("float32")
    kwargs = dict(method="layerwise", layerwise_epochs=2, finetune_epochs=2, batch_size=16)
    first, _ = build_autoencoder(6, dims=(4, 2))
    pretrain_autoencoder(first, x, backup_dir=tmp_path, seed=0, **kwargs)
    assert sorted(os.listdir(tmp_path)) == ["layerwise_0", "layerwise_1", "pretraining"]
    keras.utils.set_random_seed(1)
    second, _ = build_autoencoder(6, dims=(4, 2))
    history = pretrain_autoencoder(second, x, backup_dir=tmp_path, seed=0, **kwargs)
    assert history.history == {}
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
