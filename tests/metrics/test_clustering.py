import itertools

import keras
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from keras_cluster.metrics import (
    AdjustedRandIndex,
    ClusteringAccuracy,
    NormalizedMutualInformation,
    adjusted_rand_index,
    clustering_accuracy,
    normalized_mutual_info,
)
from tests.distributed import run_on_logical_cpus


def brute_force_accuracy(y_true, y_pred):
    """Best accuracy over every injective map between clusters and classes, by enumeration."""
    classes, clusters = np.unique(y_true), np.unique(y_pred)
    best = 0
    if len(clusters) <= len(classes):
        maps = (
            dict(zip(clusters, p, strict=True))
            for p in itertools.permutations(classes, len(clusters))
        )
    else:
        maps = (
            {cluster: cls for cls, cluster in zip(classes, p, strict=True)}
            for p in itertools.permutations(clusters, len(classes))
        )
    for mapping in maps:
        hits = sum(mapping.get(c) == t for t, c in zip(y_true, y_pred, strict=True))
        best = max(best, hits)
    return best / len(y_true)


def nmi_reference(y_true, y_pred):
    """NMI from its definition in float64: I(T;C) / mean(H(T), H(C))."""
    n = len(y_true)
    classes, clusters = np.unique(y_true), np.unique(y_pred)
    if len(classes) == len(clusters) == 1:
        return 1.0
    counts = np.array([[np.sum((y_true == t) & (y_pred == c)) for c in clusters] for t in classes])
    p = counts / n
    pt, pc = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    mi = np.sum(p[nz] * np.log(p[nz] / (pt @ pc)[nz]))
    h = -np.sum(pt * np.log(pt)) - np.sum(pc * np.log(pc))
    return 0.0 if mi <= 1e-15 else mi / (h / 2)


def ari_reference(y_true, y_pred):
    """ARI from Hubert & Arabie's formula in float64."""
    from math import comb

    classes, clusters = np.unique(y_true), np.unique(y_pred)
    counts = np.array([[np.sum((y_true == t) & (y_pred == c)) for c in clusters] for t in classes])
    index = sum(comb(int(x), 2) for x in counts.ravel())
    a = sum(comb(int(x), 2) for x in counts.sum(1))
    b = sum(comb(int(x), 2) for x in counts.sum(0))
    expected = a * b / comb(len(y_true), 2)
    maximum = (a + b) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


CASES = [(3, 3, 12), (4, 3, 15), (3, 5, 15), (5, 5, 20), (1, 1, 5), (2, 1, 9)]


@pytest.mark.parametrize("n_classes,n_clusters,n", CASES)
def test_functions_match_float64_references(rng, n_classes, n_clusters, n):
    for _ in range(5):
        y_true = rng.integers(0, n_classes, n)
        y_pred = rng.integers(0, n_clusters, n)
        assert clustering_accuracy(y_true, y_pred) == pytest.approx(
            brute_force_accuracy(y_true, y_pred), abs=1e-12
        )
        assert normalized_mutual_info(y_true, y_pred) == pytest.approx(
            nmi_reference(y_true, y_pred), abs=1e-10
        )
        assert adjusted_rand_index(y_true, y_pred) == pytest.approx(
            ari_reference(y_true, y_pred), abs=1e-10
        )


def test_accuracy_is_label_permutation_invariant_and_accepts_any_labels():
    y_true = np.array(["a", "a", "b", "b", "c", "c"])
    assert clustering_accuracy(y_true, [7, 7, 3, 3, 5, 5]) == 1.0
    assert clustering_accuracy(y_true, [7, 7, 3, 3, 3, 3]) == pytest.approx(4 / 6)


@pytest.mark.parametrize("fn", [clustering_accuracy, normalized_mutual_info, adjusted_rand_index])
def test_functions_reject_bad_input(fn):
    with pytest.raises(ValueError, match=r"`y_true` should be a 1-D.*\(2, 2\)"):
        fn(np.zeros((2, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"len\(y_true\)=3, len\(y_pred\)=2"):
        fn([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="should not be empty"):
        fn([], [])
    with pytest.raises(ValueError, match="`y_pred` should not contain NaN"):
        fn([0, 1], [0.0, np.nan])


METRICS = [
    (ClusteringAccuracy, clustering_accuracy),
    (NormalizedMutualInformation, normalized_mutual_info_score),
    (AdjustedRandIndex, adjusted_rand_score),
]


@pytest.mark.parametrize("metric_class,reference", METRICS)
@pytest.mark.parametrize("n_classes,n_clusters", [(4, 4), (3, 6), (6, 3), (1, 1)])
def test_streaming_metric_matches_reference(rng, metric_class, reference, n_classes, n_clusters):
    y_true = rng.integers(0, n_classes, 60)
    q = rng.dirichlet(np.ones(n_clusters), size=60).astype("float32")
    metric = metric_class(n_clusters=n_clusters, n_classes=n_classes)
    for start in range(0, 60, 25):
        metric.update_state(y_true[start : start + 25, None], q[start : start + 25])
    expected = reference(y_true, q.argmax(1))
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0
    metric.update_state(y_true[:10], q[:10])
    assert float(metric.result()) == pytest.approx(
        reference(y_true[:10], q[:10].argmax(1)), abs=1e-6
    )


@pytest.mark.parametrize("metric_class,reference", METRICS)
def test_sample_weight_equals_repeated_samples(rng, metric_class, reference):
    y_true = rng.integers(0, 3, 20)
    q = rng.dirichlet(np.ones(3), size=20)
    weights = rng.integers(0, 4, 20)
    metric = metric_class(n_clusters=3)
    metric.update_state(y_true, q, sample_weight=weights.astype("float32"))
    expected = reference(np.repeat(y_true, weights), np.repeat(q.argmax(1), weights))
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)


def test_out_of_range_label_gives_nan():
    metric = ClusteringAccuracy(n_clusters=2, n_classes=2)
    metric.update_state(np.array([0, 2]), np.eye(2))
    assert np.isnan(float(metric.result()))


@pytest.mark.parametrize("metric_class", [m for m, _ in METRICS])
def test_metric_rejects_bad_arguments(metric_class):
    with pytest.raises(ValueError, match=r"`n_clusters` should be an integer >= 1.*n_clusters=0"):
        metric_class(n_clusters=0)
    with pytest.raises(ValueError, match=r"`n_classes`.*n_classes=2.5"):
        metric_class(n_clusters=2, n_classes=2.5)
    metric = metric_class(n_clusters=3)
    with pytest.raises(ValueError, match=r"`y_pred` should be the soft assignment.*\(4, 2\)"):
        metric.update_state(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"`y_true` should hold one integer.*\(4, 3\)"):
        metric.update_state(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"same batch size.*5 and 4"):
        metric.update_state(np.zeros(5), np.zeros((4, 3)))


@pytest.mark.parametrize("metric_class", [m for m, _ in METRICS])
def test_config_round_trip(metric_class):
    metric = metric_class(n_clusters=4, n_classes=3, name="score")
    config = metric.get_config()
    assert config["n_clusters"] == 4 and config["n_classes"] == 3 and config["name"] == "score"
    clone = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(clone) is metric_class
    assert clone.get_config() == config


def _soft_assignment_model(n_features, n_clusters):
    inputs = keras.Input((n_features,))
    outputs = keras.layers.Dense(n_clusters, activation="softmax")(inputs)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("jit_compile", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_metrics_in_fit_evaluate_and_saved_model(tmp_path, rng, jit_compile):
    x = rng.normal(size=(96, 5)).astype("float32")
    y = rng.integers(0, 3, 96)
    model = _soft_assignment_model(5, 4)
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=[
            ClusteringAccuracy(4, n_classes=3),
            NormalizedMutualInformation(4, n_classes=3),
            AdjustedRandIndex(4, n_classes=3),
        ],
        jit_compile=jit_compile,
    )
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert {"cluster_acc", "nmi", "ari"} <= set(history.history)
    scores = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    labels = model.predict(x, verbose=0).argmax(1)
    assert scores["cluster_acc"] == pytest.approx(clustering_accuracy(y, labels), abs=1e-6)
    assert scores["nmi"] == pytest.approx(normalized_mutual_info_score(y, labels), abs=1e-5)
    assert scores["ari"] == pytest.approx(adjusted_rand_score(y, labels), abs=1e-5)
    if jit_compile:
        return

    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    restored_scores = restored.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    for key in ("cluster_acc", "nmi", "ari"):
        assert restored_scores[key] == pytest.approx(scores[key], abs=1e-6)


MIRRORED_METRICS = """
import json
import keras, numpy as np
import tensorflow as tf
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from keras_cluster.metrics import (
    AdjustedRandIndex, ClusteringAccuracy, NormalizedMutualInformation, clustering_accuracy,
)
rng = np.random.default_rng(0)
x = rng.normal(size=(128, 5)).astype("float32")
y = rng.integers(0, 3, 128)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="softmax")])
    model.compile(
        "adam",
        "sparse_categorical_crossentropy",
        metrics=[
            ClusteringAccuracy(4, 3), NormalizedMutualInformation(4, 3), AdjustedRandIndex(4, 3)
        ],
    )
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
scores = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
labels = model.predict(x, verbose=0).argmax(1)
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "scores": scores,
    "cluster_acc": float(clustering_accuracy(y, labels)),
    "nmi": normalized_mutual_info_score(y, labels),
    "ari": adjusted_rand_score(y, labels),
}))
"""


@pytest.mark.slow
def test_metrics_sum_across_replicas_under_mirrored_strategy():
    result = run_on_logical_cpus(MIRRORED_METRICS)
    assert result["replicas"] == 2
    assert result["scores"]["cluster_acc"] == pytest.approx(result["cluster_acc"], abs=1e-6)
    assert result["scores"]["nmi"] == pytest.approx(result["nmi"], abs=1e-5)
    assert result["scores"]["ari"] == pytest.approx(result["ari"], abs=1e-5)
