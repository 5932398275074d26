import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cluster.losses import DECLoss, dec_loss, target_distribution
from tests.numerical import central_difference


def reference_p(q):
    """Eq. (3) of Xie et al. 2016 in float64."""
    weight = q**2 / q.sum(0)
    return weight / weight.sum(1, keepdims=True)


def reference_kl(p, q):
    """Eq. (2): sum_j p_ij log(p_ij / q_ij), 0 log 0 = 0, per sample."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / q), 0.0)
    return terms.sum(1)


def random_q(rng, n=9, k=4):
    logits = rng.normal(size=(n, k))
    q = np.exp(logits)
    return q / q.sum(1, keepdims=True)


def test_target_distribution_matches_paper(rng):
    q = random_q(rng)
    p = keras.ops.convert_to_numpy(target_distribution(q))
    np.testing.assert_allclose(p, reference_p(q), rtol=1e-12)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)


def test_target_distribution_sharpens_when_clusters_are_balanced():
    """With equal cluster frequencies f_j, p_ij = q_ij^2 / sum_j' q_ij'^2: every row's top rises."""
    q = np.array([[0.6, 0.3, 0.1], [0.1, 0.6, 0.3], [0.3, 0.1, 0.6]])  # equal column sums
    p = keras.ops.convert_to_numpy(target_distribution(q))
    np.testing.assert_allclose(p, q**2 / (q**2).sum(1, keepdims=True), rtol=1e-12)
    assert np.all(p.max(1) > q.max(1))


def test_dec_loss_matches_kl(rng):
    q = random_q(rng)
    p = reference_p(q)
    loss = keras.ops.convert_to_numpy(dec_loss(p, q))
    np.testing.assert_allclose(loss, reference_kl(p, q), rtol=1e-10)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(DECLoss(dtype="float64")(p, q)),
        reference_kl(p, q).mean(),
        rtol=1e-10,
    )


def test_dec_loss_zero_targets_and_zero_q():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    q = np.array([[0.5, 0.5], [1.0, 0.0]])
    loss = keras.ops.convert_to_numpy(dec_loss(p, q))
    assert np.isfinite(loss).all()
    np.testing.assert_allclose(loss[0], np.log(2.0), rtol=1e-12)
    # q_ij = 0 where p_ij > 0: q is clipped at epsilon, so the loss is large but finite.
    eps = keras.config.epsilon()
    np.testing.assert_allclose(loss[1], 0.5 * np.log(0.5) + 0.5 * np.log(0.5 / eps), rtol=1e-12)


def test_kl_gradient_against_finite_differences(rng):
    """Gradient of KL(P || Q(z)) w.r.t. the embedding, with P fixed, against float64 FD."""
    from keras_cluster.layers import soft_assignment

    z = rng.normal(size=(5, 3))
    mu = rng.normal(size=(4, 3))

    def q_of(z_):
        d2 = ((z_[:, None] - mu[None]) ** 2).sum(-1)
        k = 1.0 / (1.0 + d2)
        return k / k.sum(1, keepdims=True)

    p = reference_p(q_of(z))
    z_t = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(z_t)
        loss = DECLoss(dtype="float64")(p, soft_assignment(z_t, tf.constant(mu), 1.0))
    grad = tape.gradient(loss, z_t).numpy()
    numeric = central_difference(lambda z_: reference_kl(p, q_of(z_)).mean(), z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-10)
    # The paper's closed form, eq. (4):
    # dL/dz_i = (a+1)/a sum_j (1+d2/a)^-1 (p_ij - q_ij)(z_i - mu_j)
    q = q_of(z)
    d2 = ((z[:, None] - mu[None]) ** 2).sum(-1)
    closed = 2.0 * (((p - q) / (1.0 + d2))[:, :, None] * (z[:, None] - mu[None])).sum(1)
    np.testing.assert_allclose(grad, closed / len(z), rtol=1e-8)


def test_batch_target_uses_own_q_without_gradient(rng):
    q = random_q(rng)
    expected = reference_kl(reference_p(q), q).mean()
    loss = DECLoss(target="batch", dtype="float64")(np.zeros_like(q), q)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), expected, rtol=1e-10)


def test_config_round_trip_and_registration():
    loss = DECLoss(target="batch", name="kl")
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, DECLoss) and clone.target == "batch" and clone.name == "kl"
    assert keras.saving.get_registered_name(DECLoss) == "keras_cluster>DECLoss"


def test_bad_target():
    with pytest.raises(ValueError, match="target.*Received: target='foo'"):
        DECLoss(target="foo")


def test_a_loss_saved_with_the_old_target_name_loads():
    """keras_cluster 0.1.0 called the full-data target "given": its files still load."""
    config = keras.losses.serialize(DECLoss())
    config["config"]["target"] = "given"
    assert keras.losses.deserialize(config).target == "full"
