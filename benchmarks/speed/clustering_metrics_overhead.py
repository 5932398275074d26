"""Cost of the in-graph clustering metrics in `model.fit`, side by side in one run.

Keras calls `result()` inside every compiled train step, so ClusteringAccuracy solves a
(classes x clusters) assignment each step. This prints the train-step time of a DEC-sized
soft-assignment model (784 -> 500 -> 10 softmax, batch 256) with: no metric; the three in-graph
metrics (the accuracy's solver runs as one XLA-compiled call); and, for comparison, the same
solver run op by op in the step, and an accuracy whose Hungarian step is a host callback
(`tf.numpy_function` + scipy), which cannot compile with XLA. Also the standalone 10 x 10
assignment: in-graph (tf.function and XLA) vs scipy. Figures are ratios to the no-metric run,
measured in the same process.

Run from the repository root, niced (the CPU is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.speed.clustering_metrics_overhead --steps 200
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from scipy.optimize import linear_sum_assignment as scipy_lsa  # noqa: E402

from benchmarks.rows import add_json_argument, write_rows  # noqa: E402
from keras_cluster.metrics import (  # noqa: E402
    AdjustedRandIndex,
    ClusteringAccuracy,
    NormalizedMutualInformation,
)
from keras_cluster.metrics.clustering import _ContingencyMetric  # noqa: E402
from keras_cluster.metrics.linear_assignment import linear_sum_assignment  # noqa: E402


def _host_accuracy(contingency):
    def solve(c):
        rows, cols = scipy_lsa(c, maximize=True)
        return np.float64(c[rows, cols].sum() / max(c.sum(), 1e-300))

    return tf.numpy_function(solve, [contingency], tf.float64, stateful=False)


def _op_by_op_accuracy(contingency):
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    matched = tf.reduce_sum(tf.gather_nd(contingency, tf.stack([rows, cols], axis=1)))
    return matched / tf.maximum(tf.reduce_sum(contingency), 1e-300)


class _Uncompiled(_ContingencyMetric):
    """Scores without the XLA compilation of `ClusteringAccuracy.result()`."""

    def result(self):
        return tf.cast(self._score(tf.convert_to_tensor(self.contingency)), self.dtype)


class OpByOpClusteringAccuracy(_Uncompiled):
    """Same solver, not XLA-compiled: its while-loops run op by op in the train step."""

    _score = staticmethod(_op_by_op_accuracy)


class HostClusteringAccuracy(_Uncompiled):
    """Same state as ClusteringAccuracy; the Hungarian step runs on the host (scipy)."""

    _score = staticmethod(_host_accuracy)


def step_time(metrics, x, y, steps, batch_size):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(500, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=metrics, jit_compile=False)
    data = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(batch_size)
    model.fit(data, steps_per_epoch=10, epochs=1, verbose=0)  # trace + warm up
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    add_json_argument(parser, "clustering_metrics_overhead")
    args = parser.parse_args()
    rows = []
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4096, 784)).astype("float32")
    y = rng.integers(0, 10, 4096)
    variants = {
        "no metric": lambda: [],
        "ACC in-graph": lambda: [ClusteringAccuracy(10)],
        "ACC+NMI+ARI in-graph": lambda: [
            ClusteringAccuracy(10),
            NormalizedMutualInformation(10),
            AdjustedRandIndex(10),
        ],
        "ACC solver op by op": lambda: [OpByOpClusteringAccuracy(10, name="op_acc")],
        "ACC host (numpy_function)": lambda: [HostClusteringAccuracy(10, name="host_acc")],
    }
    times = {name: [] for name in variants}
    for _ in range(args.repeats):  # interleaved, so load changes hit every variant alike
        for name, make in variants.items():
            times[name].append(step_time(make(), x, y, args.steps, args.batch_size))
    base = min(times["no metric"])
    print(f"train step, batch {args.batch_size}, best of {args.repeats} x {args.steps} steps")
    for name, values in times.items():
        best = min(values)
        print(f"  {name:28s} {best * 1e3:8.3f} ms/step   x{best / base:5.2f}")
        rows.append(
            dict(benchmark="clustering_metrics_overhead",
                 problem=f"train step, batch {args.batch_size}", method=name, seed=0,
                 seconds=best, seconds_unit=f"s a step (best of {args.repeats})",
                 **({"baseline": ["no metric"]} if name != "no metric" else {}))
        )  # fmt: skip

    cost = rng.integers(0, 500, size=(10, 10)).astype(np.float64)
    graph = tf.function(lambda c: linear_sum_assignment(c, maximize=True))
    xla = tf.function(lambda c: linear_sum_assignment(c, maximize=True), jit_compile=True)
    for solve in (graph, xla):
        solve(tf.constant(cost))
    solvers = {
        "scipy (host)": lambda: scipy_lsa(cost, maximize=True),
        "in-graph tf.function": lambda: graph(tf.constant(cost)),
        "in-graph XLA": lambda: xla(tf.constant(cost)),
    }
    print("10 x 10 assignment, best of 5 x 200 calls")
    for name, solve in solvers.items():
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(200):
                solve()
            best = min(best, (time.perf_counter() - start) / 200)
        print(f"  {name:28s} {best * 1e6:8.1f} us/call")
        rows.append(
            dict(benchmark="clustering_metrics_overhead", problem="10 x 10 assignment",
                 method=name, seed=0, seconds=best, seconds_unit="s a call (best of 5 x 200)",
                 **({"baseline": ["scipy (host)"]} if name != "scipy (host)" else {}))
        )  # fmt: skip
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
