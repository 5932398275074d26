import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError

from keras_cluster.estimators import DEC, IDEC
from tests.test_row_source import Batches

TINY = dict(
    dims=(32, 5),
    pretrain="end_to_end",
    finetune_epochs=5,
    update_interval=5,
    max_iter=20,
    kmeans_n_init=2,
    batch_size=64,
    random_state=0,
    verbose=0,
)


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return (x[:300] / 16.0).astype("float32"), y[:300]


@pytest.fixture(scope="module")
def fitted(digits):
    return DEC(n_clusters=4, **TINY).fit(digits[0])


def test_fitted_attributes(fitted, digits):
    x = digits[0]
    assert fitted.labels_.shape == (300,) and set(fitted.labels_) <= set(range(4))
    assert fitted.cluster_centers_.shape == (4, 5)
    assert fitted.n_features_in_ == 64 and fitted.fit_time_ > 0
    np.testing.assert_array_equal(fitted.predict(x), fitted.labels_)
    q = fitted.predict_proba(x)
    assert q.shape == (300, 4)
    np.testing.assert_allclose(q.sum(1), 1.0, rtol=1e-5)
    z = fitted.transform(x)
    assert z.shape == (300, 5)
    np.testing.assert_allclose(z, fitted.encoder_.predict(x, verbose=0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fitted.autoencoder_.predict(x, verbose=0).shape, (300, 64))
    assert fitted.n_iter_ <= 20 and "delta_label" in fitted.history_.history


def test_predict_accepts_float64_and_lists(fitted, digits):
    x = digits[0][:5]
    np.testing.assert_array_equal(fitted.predict(x.astype("float64").tolist()), fitted.labels_[:5])


def test_clusters_better_than_chance(fitted, digits):
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(digits[1], fitted.labels_) > 0.1


def test_keras_round_trip_without_custom_objects(fitted, digits, tmp_path):
    path = tmp_path / "dec.keras"
    fitted.model_.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(digits[0], verbose=0), fitted.predict_proba(digits[0]), rtol=1e-5, atol=1e-7
    )
    layer = loaded.get_layer("clustering")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centroids), fitted.cluster_centers_)
    assert layer.alpha == 1.0


def test_saved_model_serves_without_the_package(fitted, digits, tmp_path):
    path = str(tmp_path / "dec_savedmodel")
    fitted.model_.export(path, verbose=False)
    x = digits[0][:7]
    np.save(tmp_path / "x.npy", x)
    script = (
        "import json, sys, numpy as np, tensorflow as tf\n"
        f"m = tf.saved_model.load({path!r})\n"
        "q = m.serve(tf.constant(np.load('x.npy'))).numpy()\n"
        "assert not any(name.startswith('keras_cluster') for name in sys.modules)\n"
        "print(json.dumps(q.tolist()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-3000:]
    served = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(served, fitted.predict_proba(x), rtol=1e-5, atol=1e-7)


def test_idec_keeps_the_decoder_and_changes_the_result(digits):
    x = digits[0]
    settings = {**TINY, "max_iter": 40, "tol": 0.0}
    dec = DEC(n_clusters=4, **settings).fit(x)
    idec = IDEC(n_clusters=4, **settings).fit(x)
    # Same seed, same pretraining and k-means start: the clustering stages alone differ.
    np.testing.assert_allclose(
        dec.kmeans_.cluster_centers_, idec.kmeans_.cluster_centers_, rtol=1e-5
    )
    assert {"clustering_loss", "reconstruction_loss"} <= set(idec.history_.history)
    assert not np.allclose(dec.cluster_centers_, idec.cluster_centers_, rtol=1e-3)
    assert np.mean(dec.labels_ != idec.labels_) > 0.0
    assert idec.model_.output_shape == (None, 4)
    np.testing.assert_array_equal(idec.predict(x), idec.labels_)


@pytest.mark.parametrize("cls", [DEC, IDEC])
@pytest.mark.parametrize(
    "target, augmented, expected",
    [
        ("auto", False, "batch"),
        ("auto", True, "full"),  # P must come from the clean rows
        ("full", False, "full"),
        ("batch", False, "batch"),
        ("batch", True, "batch"),  # asked for explicitly: kept
    ],
)
def test_target_auto_is_per_batch_p_and_full_p_with_augmentation(
    digits, monkeypatch, cls, target, augmented, expected
):
    from keras_cluster.estimators import dec as dec_module

    built = []
    original = dec_module.DECLoss

    def spy(**kwargs):
        loss = original(**kwargs)
        built.append(loss.target)
        return loss

    monkeypatch.setattr(dec_module, "DECLoss", spy)
    augmentation = (
        dict(augmentation=keras.layers.RandomTranslation(0.1, 0.1), image_shape=(8, 8, 1))
        if augmented
        else {}
    )
    est = cls(n_clusters=3, target=target, **{**TINY, "max_iter": 5}, **augmentation)
    est.fit(digits[0][:100])
    assert est.target_ == expected
    assert built == [expected]  # the self-training loss was built with it
    assert est.labels_.shape == (100,)


def test_target_defaults_to_auto():
    assert DEC().target == IDEC().target == "auto"


@pytest.mark.parametrize(
    "x, match",
    [
        (np.full((20, 3), np.nan), "NaN"),
        (np.full((20, 3), np.inf), "inf"),
        (np.zeros(20), "2D"),
        (np.zeros((2, 3, 4)), "dim"),
    ],
)
def test_bad_x(x, match):
    with pytest.raises(ValueError, match=match):
        DEC(n_clusters=2, **TINY).fit(x)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "n_clusters=0"),
        ({"n_clusters": 50}, "n_clusters=50 with n_samples=20"),
        ({"n_clusters": 2, "pretrain": "rbm"}, "pretrain='rbm'"),
        ({"n_clusters": 2, "tol": 2}, "tol=2"),
        ({"n_clusters": 2, "target": "x"}, "target='x'"),
        ({"n_clusters": 2, "optimizer": "nope"}, "optimizer='nope'"),
        ({"n_clusters": 2, "batch_size": 0}, "batch_size=0"),
    ],
)
def test_bad_parameters(params, match):
    base = {k: v for k, v in TINY.items()}
    with pytest.raises(ValueError, match=match):
        DEC(**{**base, **params}).fit(np.random.default_rng(0).random((20, 3)))


def _scalings(rng):
    """The preprocessings users give: each a different affine map of the same features."""
    base = rng.normal(size=(500, 8))
    unit = (base - base.min(0)) / np.ptp(base, axis=0)
    mixed = base.copy()
    mixed[:, 0] *= 1000.0
    return {
        "unit interval": unit,
        "standardized": (base - base.mean(0)) / base.std(0),
        "standard normal x100": base * 100.0,
        "pixels 0-255": np.round(unit * 255.0),
        "offset +100": base + 100.0,
        "one column x1000": mixed,
    }


@pytest.mark.parametrize(
    "name",
    [
        "unit interval",
        "standardized",
        "standard normal x100",
        "pixels 0-255",
        "offset +100",
        "one column x1000",
    ],
)
def test_default_pretraining_does_not_diverge_on_any_affine_scaling(name):
    """Default dims, optimizer and learning rate; only the epochs cut (30, well past where the
    old SGD(1.0) default diverged on every one of these)."""
    x = _scalings(np.random.default_rng(0))[name].astype("float32")
    estimator = DEC(n_clusters=3, finetune_epochs=30, max_iter=10, random_state=0, verbose=0)
    estimator.fit(x)
    assert np.all(np.isfinite(estimator.predict_proba(x)))
    assert set(estimator.labels_) <= {0, 1, 2}


def test_an_affine_rescaling_of_x_trains_the_same_model(digits):
    x = digits[0][:200]
    plain = DEC(n_clusters=4, **TINY).fit(x)
    rescaled = DEC(n_clusters=4, **TINY).fit(255.0 * x + 100.0)
    agreement = np.mean(plain.labels_ == rescaled.labels_)
    assert agreement > 0.95
    np.testing.assert_allclose(
        plain.predict_proba(x), rescaled.predict_proba(255.0 * x + 100.0), atol=1e-2
    )


def test_diverged_pretraining_raises_an_error_whose_advice_fits_the_data():
    x = np.random.default_rng(0).random((40, 3)).astype("float32")
    estimator = DEC(n_clusters=2, **{**TINY, "pretrain_optimizer": keras.optimizers.SGD(1e6)})
    with pytest.raises(RuntimeError, match="Pretraining diverged") as error:
        estimator.fit(x)
    message = str(error.value)
    assert "normalized inside the model" in message and "Adam(100000)" in message
    assert "Scale X" not in message


def test_diverged_pretraining_without_normalization_points_to_it():
    x = np.random.default_rng(0).random((40, 3)).astype("float32") * 1e3
    estimator = DEC(
        n_clusters=2,
        normalization=None,
        **{**TINY, "pretrain_optimizer": keras.optimizers.SGD(1e6)},
    )
    with pytest.raises(RuntimeError, match=r"normalization=None\): pass normalization='global'"):
        estimator.fit(x)


def test_diverged_pretraining_prints_nothing_at_verbose_0(capsys):
    x = np.random.default_rng(0).random((40, 3)).astype("float32")
    estimator = DEC(n_clusters=2, **{**TINY, "pretrain_optimizer": keras.optimizers.SGD(1e6)})
    with pytest.raises(RuntimeError):
        estimator.fit(x)
    assert capsys.readouterr().out == ""


def test_model_carries_the_normalization_and_serves_raw_rows(fitted, digits, tmp_path):
    x = 16.0 * digits[0][:20]  # raw digits pixels, 0-16: the model was fitted on x / 16
    refit = DEC(n_clusters=4, **TINY).fit(16.0 * digits[0])
    np.testing.assert_allclose(refit.predict_proba(x), fitted.predict_proba(x / 16.0), atol=1e-2)
    assert refit.model_.get_layer("input_normalization") is not None
    path = tmp_path / "dec.keras"
    refit.model_.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), refit.predict_proba(x), atol=1e-6)


def test_augmentation_is_applied_to_self_training_batches_and_p_uses_clean_data(
    digits, monkeypatch
):
    x = digits[0][:128]
    seen = []

    class Record(keras.layers.Layer):
        """Adds 1 to every pixel and records the batches it saw."""

        def call(self, images, training=None):
            seen.append(training)
            return images + 1.0

    estimator = DEC(
        n_clusters=3,
        **{**TINY, "max_iter": 5},
        augmentation=Record(),
        image_shape=(8, 8, 1),
    )
    from keras_cluster.callbacks.dec_self_training import DECSelfTraining

    updates = []
    original = DECSelfTraining.update_target

    def spy(self):
        updates.append(self.source.array.copy())
        return original(self)

    monkeypatch.setattr(DECSelfTraining, "update_target", spy)
    estimator.fit(x)
    assert seen and all(flag is True for flag in seen)
    assert estimator.target_ == "full"  # the default "auto" with augmentation
    # P was computed on the clean rows, never on augmented ones.
    assert updates and all(np.array_equal(u, x) for u in updates)
    dataset = DECSelfTraining(x, 3).make_dataset(
        8, augmentation=lambda batch: batch + 1.0, shuffle=False
    )
    x_batch, _ = next(iter(dataset))
    np.testing.assert_allclose(x_batch.numpy(), x[:8] + 1.0)


def test_idec_weights_the_per_element_reconstruction_as_the_reference_code(digits):
    """Total = gamma * KL + per-element MSE (not times the feature count, as before)."""
    estimator = IDEC(n_clusters=3, gamma=0.25, **{**TINY, "max_iter": 10}).fit(digits[0][:100])
    logs = {key: np.asarray(values) for key, values in estimator.history_.history.items()}
    np.testing.assert_allclose(
        logs["loss"], 0.25 * logs["clustering_loss"] + logs["reconstruction_loss"], rtol=1e-4
    )


@pytest.mark.parametrize(
    "gamma, learning_rate", [(10.0, 0.001), (2.0, 0.005), (1.0, 0.01), (0.1, 0.01), (0.0, 0.01)]
)
def test_idec_default_optimizer_gives_the_heavier_term_decs_step(gamma, learning_rate):
    """SGD(0.01 / max(gamma, 1), momentum 0.9)."""
    optimizer = IDEC(gamma=gamma)._default_optimizer()
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.learning_rate) == pytest.approx(learning_rate)
    assert float(optimizer.momentum) == pytest.approx(0.9)


def test_idec_default_gamma_and_decs_own_step():
    """gamma 10 by default; DEC's optimizer, whose step IDEC's KL term takes: SGD(0.01, 0.9)."""
    assert IDEC().gamma == 10.0
    optimizer = DEC()._default_optimizer()
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    assert float(optimizer.momentum) == pytest.approx(0.9)


def test_idec_bad_gamma():
    with pytest.raises(ValueError, match="gamma=-1"):
        IDEC(n_clusters=2, gamma=-1, **TINY).fit(np.random.default_rng(0).random((20, 3)))


def test_predict_before_fit_and_wrong_width(fitted):
    with pytest.raises(NotFittedError):
        DEC(n_clusters=2).predict(np.zeros((2, 3)))
    assert issubclass(NotFittedError, ValueError)
    with pytest.raises(ValueError, match="X has 3 features, but DEC is expecting 64"):
        fitted.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X has 3 features"):
        fitted.transform(np.zeros((2, 3)))


def test_max_iter_is_an_exact_budget(digits):
    # 7 is not a multiple of update_interval=5: the budget is not rounded up to whole intervals.
    est = DEC(n_clusters=3, **{**TINY, "max_iter": 7, "tol": 0.0}).fit(digits[0][:100])
    assert est.n_iter_ == 7 and not est.converged_


def test_autoencoder_weights_skip_pretraining_and_share_one_start(digits, tmp_path):
    x = digits[0][:150]
    pretrained = DEC(n_clusters=3, **{**TINY, "max_iter": 0}).fit(x)
    path = str(tmp_path / "ae.weights.h5")
    pretrained.autoencoder_.save_weights(path)
    settings = {**TINY, "finetune_epochs": 0, "autoencoder_weights": path}
    for cls in (DEC, IDEC):
        est = cls(n_clusters=3, **settings).fit(x)
        # Same weights, same k-means seed: the same start as the estimator that pretrained them.
        np.testing.assert_allclose(
            est.kmeans_.cluster_centers_, pretrained.kmeans_.cluster_centers_, rtol=1e-5, atol=1e-6
        )
    # The file is read, never written: the user's pretrained weights stay as they were.
    reloaded = DEC(n_clusters=3, **{**settings, "max_iter": 0}).fit(x)
    np.testing.assert_allclose(reloaded.transform(x), pretrained.transform(x), rtol=1e-5, atol=1e-6)


def test_bad_autoencoder_weights(digits, tmp_path):
    x = digits[0][:60]
    with pytest.raises(ValueError, match="autoencoder_weights='missing.weights.h5'"):
        DEC(n_clusters=3, autoencoder_weights="missing.weights.h5", **TINY).fit(x)
    with pytest.raises(ValueError, match="autoencoder_weights=3"):
        DEC(n_clusters=3, autoencoder_weights=3, **TINY).fit(x)
    other = DEC(n_clusters=3, **{**TINY, "dims": (16, 4), "max_iter": 0}).fit(x)
    path = str(tmp_path / "other.weights.h5")
    other.autoencoder_.save_weights(path)
    with pytest.raises(ValueError, match="does not fit the autoencoder"):
        DEC(n_clusters=3, autoencoder_weights=path, **TINY).fit(x)


def test_init_with_centroids_starts_from_them(digits):
    x = digits[0][:120]
    pretrained = DEC(n_clusters=3, **{**TINY, "max_iter": 0}).fit(x)
    centroids = pretrained.kmeans_.cluster_centers_[::-1].copy()
    estimator = DEC(n_clusters=3, init=centroids, **{**TINY, "max_iter": 0}).fit(x)
    np.testing.assert_allclose(estimator.cluster_centers_, centroids, rtol=1e-6)
    embedding = estimator.transform(x)
    nearest = ((embedding[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(estimator.init_labels_, nearest)


def test_manifold_init_starts_from_the_n2d_partition(digits):
    pytest.importorskip("umap")
    x = digits[0][:200]
    estimator = DEC(n_clusters=4, init="manifold", **{**TINY, "max_iter": 0}).fit(x)
    embedding = estimator.transform(x)
    expected = np.stack([embedding[estimator.init_labels_ == k].mean(0) for k in range(4)])
    np.testing.assert_allclose(estimator.cluster_centers_, expected, rtol=1e-4, atol=1e-5)


def test_gmm_init_starts_from_the_gaussian_mixture_partition(digits):
    from sklearn.mixture import GaussianMixture

    x = digits[0][:200]
    estimator = DEC(n_clusters=4, init="gmm", **{**TINY, "max_iter": 0}).fit(x)
    embedding = estimator.transform(x).astype(np.float64)
    # The mixture, refitted here from scikit-learn alone: full covariances, started from the
    # k-means centroids, a covariance floor of 1e-6 x the mean variance of the embedding.
    mixture = GaussianMixture(
        4,
        covariance_type="full",
        reg_covar=1e-6 * embedding.var(0).mean(),
        means_init=estimator.kmeans_.cluster_centers_,
        random_state=TINY["random_state"],
    ).fit(embedding)
    np.testing.assert_array_equal(estimator.init_labels_, mixture.predict(embedding))
    np.testing.assert_allclose(estimator.gaussian_mixture_.means_, mixture.means_, rtol=1e-5)
    expected = [
        embedding[estimator.init_labels_ == k].mean(0)
        if (estimator.init_labels_ == k).any()
        else mixture.means_[k]
        for k in range(4)
    ]
    np.testing.assert_allclose(estimator.cluster_centers_, np.stack(expected), rtol=1e-4, atol=1e-5)


def test_gmm_init_keeps_the_kmeans_start_with_a_warning_when_the_mixture_fails(digits, monkeypatch):
    from sklearn.mixture import GaussianMixture

    def fail(self, X, y=None):
        raise ValueError(
            "Fitting the mixture model failed because some components have ill-defined "
            "empirical covariance"
        )

    monkeypatch.setattr(GaussianMixture, "fit", fail)
    x = digits[0][:120]
    with pytest.warns(UserWarning, match=r'init="gmm".*ill-defined.*start from k-means'):
        estimator = DEC(n_clusters=3, init="gmm", **{**TINY, "max_iter": 0}).fit(x)
    assert estimator.gaussian_mixture_ is None
    np.testing.assert_array_equal(estimator.init_labels_, estimator.kmeans_.labels_)
    np.testing.assert_allclose(
        estimator.cluster_centers_, estimator.kmeans_.cluster_centers_, rtol=1e-6
    )


@pytest.mark.parametrize(
    "init, match",
    [
        ("random", "init='random'"),
        (np.zeros((2, 5)), r"shape \(3, 5\).*Received: init with shape \(2, 5\)"),
        (np.full((3, 5), np.nan), "finite initial centroids"),
    ],
)
def test_bad_init(init, match, digits):
    with pytest.raises(ValueError, match=match):
        DEC(n_clusters=3, init=init, **TINY).fit(digits[0][:50])


@pytest.mark.parametrize(
    "n_samples, batch_size, expected", [(1797, 256, 150), (10000, 256, 50), (300, 64, 240)]
)
def test_auto_pretraining_epochs_follow_the_step_budget(n_samples, batch_size, expected):
    from keras_cluster import defaults

    steps = -(-n_samples // batch_size)
    assert defaults.pretrain_epochs_for("auto", n_samples, batch_size) == expected
    assert expected == max(50, -(-1200 // steps))
    assert defaults.pretrain_epochs_for(7, n_samples, batch_size) == 7


def test_auto_epochs_are_the_ones_run(digits):
    estimator = DEC(n_clusters=3, **{**TINY, "finetune_epochs": "auto", "max_iter": 0})
    estimator.fit(digits[0][:128])  # two batches of 64 an epoch: 1200 steps = 600 epochs
    assert estimator.pretrain_epochs_ == 600


def test_dec_fits_streamed_rows_from_tf_data_or_a_py_dataset(digits):
    """The same rows in the same order give the same fit, whichever stream carries them."""
    import tensorflow as tf

    x = digits[0][:128]
    params = dict(**{**TINY, "max_iter": 10})
    streamed = DEC(n_clusters=3, **params).fit(tf.data.Dataset.from_tensor_slices(x).batch(32))
    assert streamed.n_features_in_ == 64 and streamed.labels_.shape == (128,)
    np.testing.assert_array_equal(streamed.predict(x), streamed.labels_)
    py_dataset = DEC(n_clusters=3, **params).fit(Batches(x, 32))
    np.testing.assert_array_equal(py_dataset.labels_, streamed.labels_)
    np.testing.assert_allclose(py_dataset.cluster_centers_, streamed.cluster_centers_, rtol=1e-5)


def test_set_output_gives_named_dataframe_columns():
    import pandas as pd

    X, _ = load_digits(return_X_y=True)
    dec = DEC(n_clusters=3, dims=(8, 2), finetune_epochs=1, max_iter=2, random_state=0, verbose=0)
    dec.set_output(transform="pandas").fit(X[:60])
    frame = dec.transform(X[:5])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["dec0", "dec1"]
    np.testing.assert_allclose(frame.to_numpy(), dec.encoder_.predict(X[:5], verbose=0))


def test_seeded_augmentation_gives_the_same_fit_twice(digits):
    # Keras draws an unseeded random layer's seed when the layer is created, not from
    # `random_state`; with `seed=` given, two fits with the same arguments agree.
    def fit():
        noise = keras.layers.GaussianNoise(0.1, seed=3)
        estimator = DEC(n_clusters=4, **TINY, augmentation=noise, image_shape=(8, 8, 1))
        return estimator.fit(digits[0])

    first, second = fit(), fit()
    np.testing.assert_array_equal(first.labels_, second.labels_)
    for a, b in zip(first.model_.get_weights(), second.model_.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_pretrain_corruption_changes_the_pretraining_repeatably_and_is_announced(digits, capsys):
    x = digits[0][:200]
    settings = {**TINY, "max_iter": 0, "verbose": 1}
    clean = DEC(n_clusters=4, **settings).fit(x)
    corrupted = DEC(n_clusters=4, pretrain_corruption=0.3, **settings).fit(x)
    assert "corrupted at 0.3" in capsys.readouterr().out
    assert corrupted.get_params()["pretrain_corruption"] == 0.3
    assert not np.allclose(clean.transform(x), corrupted.transform(x))
    again = DEC(n_clusters=4, pretrain_corruption=0.3, **settings).fit(x)
    np.testing.assert_allclose(again.transform(x), corrupted.transform(x), rtol=1e-4, atol=1e-4)
