"""Peak memory and time of one full-batch Levenberg-Marquardt step against the batch size.

Net 8-64-64-1 tanh (4,801 weights), float32, inputs uniform in [-1, 1]^8, target the sum of
their sines; one `fit` of 2 full-batch epochs per row count, each in a fresh process, printing
its peak resident set size (`ru_maxrss`, the whole process: TensorFlow itself is ~0.6 GB) and
the seconds of the second epoch (the first includes tracing).

Run from the repository root (the checkout's keras_cluster is the one measured), niced (the CPU
is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.speed.lm_memory --rows 20000 100000 400000 [--chunk-rows N]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from benchmarks.rows import add_json_argument, child_env, write_rows


def one_run(rows, chunk_rows):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    import keras_cluster
    from keras_cluster.callbacks import MuAdaptation
    from keras_cluster.optimizers import LevenbergMarquardt

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (rows, 8)).astype("float32")
    y = np.sum(np.sin(2 * x), axis=1, keepdims=True).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(64, "tanh"),
            keras.layers.Dense(64, "tanh"),
            keras.layers.Dense(1),
        ]
    )
    kwargs = {} if chunk_rows is None else {"jacobian_chunk_rows": chunk_rows}
    model.compile(optimizer=LevenbergMarquardt(**kwargs), loss="mse")
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    history = model.fit(
        x, y, batch_size=rows, epochs=2, callbacks=[MuAdaptation(0), Timer()], verbose=0
    )
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {
        "package": os.path.dirname(keras_cluster.__file__),
        "rows": rows,
        "weights": model.count_params(),
        "peak_rss_gb": round(peak_gb, 2),
        "first_epoch_s": round(times[0], 2),
        "step_s": round(times[1], 2),
        "loss": [round(v, 5) for v in history.history["loss"]],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[20000, 100000, 400000])
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    add_json_argument(parser, "lm_memory")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_run(args.one, args.chunk_rows)))
        return
    # Each row count in a fresh process of this checkout, so that each peak is its own.
    records = []
    for rows in args.rows:
        command = [sys.executable, "-m", __spec__.name, "--one", str(rows)]
        if args.chunk_rows is not None:
            command += ["--chunk-rows", str(args.chunk_rows)]
        result = subprocess.run(command, capture_output=True, text=True, env=child_env())
        lines = result.stdout.strip().splitlines()
        print(lines[-1] if result.returncode == 0 else result.stderr[-2000:], flush=True)
        if result.returncode == 0:
            run = json.loads(lines[-1])
            records.append(
                dict(benchmark="lm_memory", problem=f"8-64-64-1, {rows} rows, one step",
                     method="ours" if args.chunk_rows is None else
                     f"ours, jacobian_chunk_rows={args.chunk_rows}",
                     seed=0, **{k: v for k, v in run.items() if k != "package"})
            )  # fmt: skip
            write_rows(args.json, records)


if __name__ == "__main__":
    main()
