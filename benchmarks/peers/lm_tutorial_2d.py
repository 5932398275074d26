"""The tutorial's 2-D task: ours vs tf-levenberg-marquardt vs scipy least_squares(method="lm").

500 training points uniform in [-2, 2]^2 (500 more for validation),
z = (2.5 - x)^2 + 2.5 (y - x^2)^2, net 2-10(tanh)-1, float64, full batch, 100 epochs, the same
initial weights for every method, seeds 0-2. Also: 100 LM steps as one compiled call
(`steps_per_execution=100`) and the wall time of LM vs Adam to a target validation MSE.

tf-levenberg-marquardt is optional (left out with a notice when not importable; see
`benchmarks/requirements-peers.txt`). The rows, with each fit's validation MSE after every epoch
(not timed) as its loss-against-time curve, go to `--json`.

Run from the repository root, niced (the CPU is shared):
    nice -n 5 python -m benchmarks.peers.lm_tutorial_2d [--epochs 100]
"""

import argparse
import time

import keras
import numpy as np
import tensorflow as tf
from scipy.optimize import least_squares

from benchmarks.peers.lm_common import EpochTimer, fit_ours, fit_tf_peer, median_after_first, mlp
from benchmarks.rows import add_json_argument, peer_available, write_rows
from keras_cluster.callbacks import MuAdaptation
from keras_cluster.optimizers import LevenbergMarquardt


def tutorial_data(seed):
    rng = np.random.default_rng(seed)

    def draw(n):
        x = rng.uniform(-2, 2, (n, 2))
        z = (2.5 - x[:, :1]) ** 2 + 2.5 * (x[:, 1:] - x[:, :1] ** 2) ** 2
        return x, z

    return draw(500) + draw(500)


def numpy_net(theta, x, hidden=10):
    w1 = theta[: 2 * hidden].reshape(2, hidden)
    b1 = theta[2 * hidden : 3 * hidden]
    w2 = theta[3 * hidden : 4 * hidden]
    b2 = theta[4 * hidden]
    h = np.tanh(x @ w1 + b1)
    dh = (1 - h**2) * w2
    jac = np.concatenate(
        [(x[:, :, None] * dh[:, None, :]).reshape(len(x), -1), dh, h, np.ones((len(x), 1))], 1
    )
    return h @ w2 + b2, jac


def fit_scipy(theta0, x, z, xv, zv, max_nfev):
    start = time.perf_counter()
    result = least_squares(
        lambda t: numpy_net(t, x)[0] - z[:, 0],
        theta0,
        jac=lambda t: numpy_net(t, x)[1],
        method="lm",
        max_nfev=max_nfev,
    )
    seconds = time.perf_counter() - start
    val = float(np.mean((numpy_net(result.x, xv)[0] - zv[:, 0]) ** 2))
    return val, seconds / max(result.nfev, 1), result.nfev


def one_call_100_steps(x, z):
    """100 full-batch LM steps as one compiled call: a repeated dataset, steps_per_execution."""
    model = mlp(2, [10], "float64", 0)
    model.compile(optimizer=LevenbergMarquardt(), loss="mse", steps_per_execution=100)
    data = tf.data.Dataset.from_tensors((x, z)).repeat()
    timer = EpochTimer()
    model.fit(
        data, steps_per_epoch=100, epochs=3, callbacks=[MuAdaptation(verbose=0), timer], verbose=0
    )
    return timer.times


def time_to_target(optimizer, x, z, xv, zv, target, steps_per_call, max_seconds):
    """Full-batch training, `steps_per_call` steps per compiled call, validated after each."""
    model = mlp(2, [10], "float64", 0)
    model.compile(optimizer=optimizer, loss="mse", steps_per_execution=steps_per_call)
    data = tf.data.Dataset.from_tensors((x, z)).repeat()
    timer = EpochTimer(target, max_seconds)
    callbacks = [timer]
    if isinstance(optimizer, LevenbergMarquardt):
        callbacks.insert(0, MuAdaptation(verbose=0))
    model.fit(
        data,
        steps_per_epoch=steps_per_call,
        epochs=100000,
        validation_data=(xv, zv),
        callbacks=callbacks,
        verbose=0,
    )
    val = float(model.evaluate(xv, zv, verbose=0))
    steps = len(timer.times) * steps_per_call
    return timer.reached, steps, val, time.perf_counter() - timer.start, timer.curve


TF_PEER, SCIPY = "tf-levenberg-marquardt", "scipy least_squares(method='lm')"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--target", type=float, default=0.05, help="LM vs Adam target val MSE")
    parser.add_argument("--adam-seconds", type=float, default=120.0)
    add_json_argument(parser, "lm_tutorial_2d")
    args = parser.parse_args()
    keras.backend.set_floatx("float64")
    has_peer = peer_available("tf_levenberg_marquardt", TF_PEER)
    theirs = [TF_PEER, SCIPY] if has_peer else [SCIPY]
    records = []

    def record(seed, method, val, seconds, unit="s/epoch (median after the first)", **extra):
        records.append(
            dict(benchmark="lm_tutorial_2d", problem="tutorial-2d", method=method, seed=seed,
                 val_mse=val, seconds=seconds, seconds_unit=unit, plot="tutorial-2d", **extra)
        )  # fmt: skip

    rows = []
    for seed in range(args.seeds):
        x, z, xv, zv = tutorial_data(seed)
        model = mlp(2, [10], "float64", seed)
        initial = model.get_weights()
        theta0 = np.concatenate([w.ravel() for w in initial])
        ours_val, ours_timer = fit_ours(model, x, z, xv, zv, args.epochs)
        ours_s = median_after_first(ours_timer.times)
        record(seed, "ours", ours_val, ours_s, epochs=args.epochs, curve=ours_timer.curve,
               baseline=theirs)  # fmt: skip
        peer_val, peer_s = np.nan, np.nan
        if has_peer:
            peer = mlp(2, [10], "float64", seed)
            peer.set_weights(initial)
            peer_val, peer_timer = fit_tf_peer(peer, x, z, xv, zv, args.epochs)
            peer_s = median_after_first(peer_timer.times)
            record(seed, TF_PEER, peer_val, peer_s, epochs=args.epochs, curve=peer_timer.curve)
        scipy_val, scipy_step, nfev = fit_scipy(theta0, x, z, xv, zv, args.epochs)
        record(seed, SCIPY, scipy_val, scipy_step, evaluations=nfev,
               unit="s per evaluation")  # fmt: skip
        row = (seed, ours_val, peer_val, scipy_val, ours_s, peer_s, scipy_step)
        rows.append(row)
        print(
            f"seed {seed}: val MSE ours {ours_val:.5f}  tf-lm {peer_val:.5f}  scipy-lm "
            f"{scipy_val:.5f} ({nfev} evals) | s/epoch ours {row[4]:.4f}  tf-lm {row[5]:.4f}  "
            f"scipy {scipy_step:.4f} | ours/tf-lm {row[4] / row[5]:.2f}",
            flush=True,
        )
        write_rows(args.json, records)
    rows = np.array(rows)
    median = np.median(rows, axis=0)
    print(
        f"MEDIAN over {args.seeds} seeds, {args.epochs} epochs: val MSE ours {median[1]:.5f}  "
        f"tf-lm {median[2]:.5f}  scipy-lm {median[3]:.5f} | s/epoch ours {median[4]:.4f}  "
        f"tf-lm {median[5]:.4f}  scipy {median[6]:.5f} | ratio ours/tf-lm s/epoch "
        f"{median[4] / median[5]:.2f}"
    )

    x, z, xv, zv = tutorial_data(0)
    times = one_call_100_steps(x, z)
    print(
        f"100 LM steps in one compiled call (steps_per_execution=100): first call {times[0]:.2f} s "
        f"(tracing), then {times[1]:.3f} s and {times[2]:.3f} s"
    )
    records.append(
        dict(benchmark="lm_tutorial_2d", problem="tutorial-2d, 100 steps in one compiled call",
             method="ours", seed=0, seconds=float(np.max(times[1:])),
             seconds_unit="s per call after the first (the slower)", first_call_seconds=times[0])
    )  # fmt: skip

    lm_reached, lm_steps, lm_val, lm_total, lm_curve = time_to_target(
        LevenbergMarquardt(), x, z, xv, zv, args.target, 10, args.adam_seconds
    )
    adam_reached, adam_steps, adam_val, adam_total, adam_curve = time_to_target(
        keras.optimizers.Adam(0.01), x, z, xv, zv, args.target, 100, args.adam_seconds
    )
    lm_text = f"{lm_reached:.2f} s ({lm_steps} steps)" if lm_reached else "not reached"
    adam_text = (
        f"{adam_reached:.2f} s"
        if adam_reached
        else f"not reached in {adam_total:.0f} s ({adam_steps} steps, val MSE {adam_val:.4f})"
    )
    print(
        f"time to val MSE <= {args.target} (wall, incl. tracing): LM {lm_text} | "
        f"Adam(lr=0.01) {adam_text}"
    )
    for method, reached, steps, val, total, curve in (
        ("ours", lm_reached, lm_steps, lm_val, lm_total, lm_curve),
        ("Adam(lr=0.01)", adam_reached, adam_steps, adam_val, adam_total, adam_curve),
    ):
        records.append(
            dict(benchmark="lm_tutorial_2d", problem=f"tutorial-2d, to val MSE <= {args.target:g}",
                 method=method, seed=0, seconds=reached,
                 seconds_unit="s to the target (incl. tracing)", steps=steps, val_mse=val,
                 total_seconds=total, curve=curve, plot="tutorial-2d",
                 **({"baseline": ["Adam(lr=0.01)"]} if method == "ours" else {}))
        )  # fmt: skip
    write_rows(args.json, records)
    if args.json:
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
