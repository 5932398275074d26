"""Repeated `fit` calls on the tutorial's 2-D model: LM against Adam, seconds per call.

500 points uniform in [-2, 2]^2, z = (2.5 - x)^2 + 2.5 (y - x^2)^2, net 2-10(tanh)-1, float64,
full batch, `steps_per_execution=100`; `--fits` calls of `fit` with 100 steps each, a new
`MuAdaptation()` each call (as a notebook cell or a sweep would). The first call traces.

Run from the repository root (the checkout's keras_cluster is the one measured), niced (the CPU
is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.speed.lm_refit [--fits 5]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_cluster  # noqa: E402
from benchmarks.rows import add_json_argument, write_rows  # noqa: E402
from keras_cluster.callbacks import MuAdaptation  # noqa: E402
from keras_cluster.optimizers import LevenbergMarquardt  # noqa: E402


def seconds_per_fit(optimizer, x, z, fits):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(10, "tanh"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=optimizer, loss="mse", steps_per_execution=100)
    data = tf.data.Dataset.from_tensors((x, z)).repeat()
    times = []
    for _ in range(fits):
        callbacks = [MuAdaptation(verbose=0)] if isinstance(optimizer, LevenbergMarquardt) else []
        start = time.perf_counter()
        history = model.fit(data, steps_per_epoch=100, epochs=1, callbacks=callbacks, verbose=0)
        times.append(time.perf_counter() - start)
    return times, history.history["loss"][-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fits", type=int, default=5)
    add_json_argument(parser, "lm_refit")
    args = parser.parse_args()
    rows = []
    keras.backend.set_floatx("float64")
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (500, 2))
    z = (2.5 - x[:, :1]) ** 2 + 2.5 * (x[:, 1:] - x[:, :1] ** 2) ** 2
    print(f"keras_cluster from {os.path.dirname(keras_cluster.__file__)}")
    for name, optimizer in (
        ("LM", LevenbergMarquardt()),
        ("Adam(0.01)", keras.optimizers.Adam(0.01)),
    ):
        times, loss = seconds_per_fit(optimizer, x, z, args.fits)
        later = times[1:]
        print(
            f"{name}: s per fit of 100 steps: first {times[0]:.2f}, then "
            f"{' '.join(f'{t:.3f}' for t in later)} (max {max(later):.3f}); last loss {loss:.4g}",
            flush=True,
        )
        rows.append(
            dict(benchmark="lm_refit", problem="tutorial-2d, fit of 100 steps", method=name,
                 seed=0, seconds=max(later), seconds_unit="s a fit after the first (the slowest)",
                 first_fit_seconds=times[0], loss=float(loss),
                 **({"baseline": ["Adam(0.01)"]} if name == "LM" else {}))
        )  # fmt: skip
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
