"""What the first training step costs: LM-GGN against Adam on the digits classifier.

The digits classifier 64-32(tanh)-10 of `benchmarks/peers/lm_digits.py` (1,437 training
images). Each method's training step is traced alone (`tf.function` without autograph, as Keras
calls its train step unconverted; `fit`'s iterator loop and distribution wrapper are left out),
then run on the same batch:
- LM: `LevenbergMarquardt(curvature_batch_size=32)` on the whole training set (one batch);
- Adam(0.01) on batches of 32: `fit` traces the step twice, for the batches of 32 and for the
  last, partial one (29 rows), so both are counted.

Per method: seconds to trace (`get_concrete_function`) and of the first run (the graph's
optimisation and the kernels' creation, then the step), summed over the traces `fit` makes,
their sum (the row's `seconds`), and the seconds of one later step (the median of `--runs`
runs, averaged over the batch shapes). Every figure is the median over `--repeats` interleaved
repeats after one warm-up round (a fresh model and optimizer each), so `seconds` is the median
of each repeat's trace + first run, not the sum of the two medians. In `lm_digits`, the first
epoch holds these costs: LM's one-time cost against Adam's, beside the per-epoch costs, tells
where the time to 97% goes.

Run from the repository root, niced (the CPU is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.speed.lm_first_step [--repeats 5] [--runs 10]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.peers.lm_digits import classifier, digits_split  # noqa: E402
from benchmarks.rows import add_json_argument, write_rows  # noqa: E402
from keras_cluster.optimizers import LevenbergMarquardt  # noqa: E402

LM = "LM-GGN (ours, full batch, curvature_batch_size=32)"
ADAM = "Adam(0.01, batch 32)"


def timed_step(step, batches, runs):
    """`(trace, first run, later step)` seconds of `step` on `batches` (one trace per batch).

    The trace and first-run seconds are summed over the batches; the later step's is the mean
    over the batches of the median of `runs` runs.
    """
    trace = first = later = 0.0
    function = tf.function(step, autograph=False)
    for x, y in batches:
        start = time.perf_counter()
        concrete = function.get_concrete_function(x, y)
        trace += time.perf_counter() - start
        start = time.perf_counter()
        concrete(x, y)
        first += time.perf_counter() - start
        runs_seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            concrete(x, y)
            runs_seconds.append(time.perf_counter() - start)
        later += statistics.median(runs_seconds) / len(batches)
    return trace, first, later


def lm_step(x, y, runs):
    model = classifier()
    optimizer = LevenbergMarquardt(curvature_batch_size=32, seed=0)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(True))
    optimizer.build(model.trainable_variables)
    batches = [(tf.constant(x), tf.constant(y))]
    return timed_step(lambda x, y: optimizer.train_step(model, (x, y), True), batches, runs)


def adam_step(x, y, runs):
    model = classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(True),
    )
    model.optimizer.build(model.trainable_variables)
    last = len(x) % 32 or 32
    batches = [(tf.constant(x[:32]), tf.constant(y[:32]))]
    batches.append((tf.constant(x[-last:]), tf.constant(y[-last:])))
    return timed_step(lambda x, y: model.train_step((x, y)), batches, runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    add_json_argument(parser, "lm_first_step")
    args = parser.parse_args()
    if args.repeats < 1 or args.runs < 1:
        parser.error(f"--repeats and --runs should be >= 1. Received: {args.repeats}, {args.runs}")
    x, _, y, _ = digits_split()
    methods = {LM: lm_step, ADAM: adam_step}
    for step in methods.values():  # warm-up: the first traces of the process pay for imports
        step(x, y, 1)
    figures = {name: [] for name in methods}
    for _ in range(args.repeats):  # interleaved
        for name, step in methods.items():
            figures[name].append(step(x, y, args.runs))
    rows = []
    for name, runs in figures.items():
        trace, first, later = (statistics.median(column) for column in np.transpose(runs))
        once = statistics.median(t + f for t, f, _ in runs)  # of each repeat's sum, not a sum
        print(
            f"{name}: trace {trace:.3f} s, first run {first:.3f} s, both {once:.3f} s, a later "
            f"step {later * 1e3:.2f} ms (medians of {args.repeats})",
            flush=True,
        )
        rows.append(
            dict(benchmark="lm_first_step", problem="digits 64-32-10, the first training step",
                 method=name, seed=0, seconds=once,
                 seconds_unit="s to trace and run the step once (medians)",
                 trace_seconds=trace, first_run_seconds=first, later_step_seconds=later,
                 **({"baseline": [ADAM]} if name == LM else {}))
        )  # fmt: skip
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
