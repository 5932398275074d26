"""6-D Rosenbrock: ours vs tf-levenberg-marquardt vs torch-levenberg-marquardt, and vs Adam.

10,000 training points uniform in [-2, 2]^6 (2,000 more for validation), target
sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 divided by its std, net 6-12-10-8-1 tanh (311
weights), float32, full batch, 50 epochs, the same initial weights for every method.

Our default (`mu_rule="tutorial"`, the peer's rule) and `mu_rule="nielsen"` are both run. Then
the wall time of LM and of Adam(1e-3, batches of 256) to a validation MSE of `--target`. A peer
that is not importable is left out with a notice. Each run's validation MSE after every epoch
(not timed) is the loss-against-time curve of the report; the rows go to `--json`.

Run from the repository root, niced (the CPU is shared), in a venv with the peers
(`benchmarks/requirements-peers.txt`):
    nice -n 5 python -m benchmarks.peers.lm_rosenbrock_6d [--epochs 50] [--skip-adam]
"""

import argparse
import time

import keras
import numpy as np

from benchmarks.peers.lm_common import (
    EpochTimer,
    fit_ours,
    fit_tf_peer,
    fit_torch_peer,
    median_after_first,
    mlp,
)
from benchmarks.rows import add_json_argument, peer_available, write_rows
from keras_cluster.callbacks import MuAdaptation
from keras_cluster.optimizers import LevenbergMarquardt


def rosenbrock_data(seed=0):
    rng = np.random.default_rng(seed)

    def rosenbrock(x):
        terms = 100 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2
        return np.sum(terms, axis=1, keepdims=True)

    x, xv = rng.uniform(-2, 2, (10000, 6)), rng.uniform(-2, 2, (2000, 6))
    z, zv = rosenbrock(x), rosenbrock(xv)
    scale = z.std()
    return [a.astype("float32") for a in (x, z / scale, xv, zv / scale)]


def time_to_target(optimizer, data, target, epochs, max_seconds):
    x, z, xv, zv = data
    model = mlp(6, [12, 10, 8], "float32", 0)
    model.compile(optimizer=optimizer, loss="mse")
    timer = EpochTimer(target, max_seconds)
    callbacks = [timer]
    if isinstance(optimizer, LevenbergMarquardt):
        callbacks.insert(0, MuAdaptation(verbose=0))
    model.fit(
        x,
        z,
        batch_size=len(x) if isinstance(optimizer, LevenbergMarquardt) else 256,
        epochs=epochs,
        validation_data=(xv, zv),
        callbacks=callbacks,
        verbose=0,
    )
    val = float(model.evaluate(xv, zv, batch_size=len(xv), verbose=0))
    return timer.reached, len(timer.times), val, time.perf_counter() - timer.start, timer.curve


TF_PEER, TORCH_PEER = "tf-levenberg-marquardt", "torch-levenberg-marquardt"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--target", type=float, default=0.02, help="LM vs Adam target val MSE")
    parser.add_argument("--adam-seconds", type=float, default=120.0)
    parser.add_argument("--skip-adam", action="store_true", help="only the side-by-side fits")
    add_json_argument(parser, "lm_rosenbrock_6d")
    args = parser.parse_args()
    data = rosenbrock_data()
    problem = "rosenbrock-6d"
    rows = []

    def record(method, val, times, curve, **extra):
        rows.append(
            dict(benchmark="lm_rosenbrock_6d", problem=problem, method=method, seed=0,
                 epochs=len(times), val_mse=val, seconds=median_after_first(times),
                 seconds_unit="s/epoch (median after the first)", curve=curve, plot=problem,
                 **extra)
        )  # fmt: skip
        return rows[-1]["seconds"]

    model = mlp(6, [12, 10, 8], "float32", 0)
    initial = model.get_weights()
    peers = [
        name
        for name, module in (
            (TF_PEER, "tf_levenberg_marquardt"),
            (TORCH_PEER, "torch_levenberg_marquardt"),
        )
        if peer_available(module, name)
    ]
    ours_val, ours_timer = fit_ours(model, *data, args.epochs)
    ours = record("ours", ours_val, ours_timer.times, ours_timer.curve, baseline=peers)
    nielsen = mlp(6, [12, 10, 8], "float32", 0)
    nielsen.set_weights(initial)
    nielsen_val, nielsen_timer = fit_ours(nielsen, *data, args.epochs, mu_rule="nielsen")
    nielsen_s = record(
        "ours, mu_rule='nielsen'", nielsen_val, nielsen_timer.times, nielsen_timer.curve,
        baseline=peers,
    )  # fmt: skip
    text = f"6-D Rosenbrock, 311 weights, {args.epochs} epochs: val MSE ours {ours_val:.5f}"
    speed = f"s/epoch ours {ours:.4f}"
    ratios = ""
    if TF_PEER in peers:
        peer = mlp(6, [12, 10, 8], "float32", 0)
        peer.set_weights(initial)
        peer_val, peer_timer = fit_tf_peer(peer, *data, args.epochs)
        peer_s = record(TF_PEER, peer_val, peer_timer.times, peer_timer.curve)
        text += f"  tf-lm {peer_val:.5f}"
        speed += f"  tf-lm {peer_s:.4f}"
        ratios += f" | ratio ours/tf-lm {ours / peer_s:.2f}"
    if TORCH_PEER in peers:
        torch_model = mlp(6, [12, 10, 8], "float32", 0)
        torch_model.set_weights(initial)
        torch_val, torch_times, torch_curve = fit_torch_peer(
            torch_model, *data, args.epochs, "float32"
        )
        torch_s = record(TORCH_PEER, torch_val, torch_times, torch_curve)
        text += f"  torch-lm {torch_val:.5f}"
        speed += f"  torch-lm step {torch_s:.4f}"
        ratios += f"  ours/torch-lm {ours / torch_s:.2f}"
    print(f"{text} | {speed}{ratios}", flush=True)
    print(
        f"  ours with mu_rule='nielsen': val MSE {nielsen_val:.5f} | s/epoch {nielsen_s:.4f}"
        + (f" | ratio to tf-lm {nielsen_s / peer_s:.2f}" if TF_PEER in peers else ""),
        flush=True,
    )
    write_rows(args.json, rows)

    if not args.skip_adam:
        lm = time_to_target(LevenbergMarquardt(), data, args.target, 500, args.adam_seconds)
        adam = time_to_target(
            keras.optimizers.Adam(1e-3), data, args.target, 100000, args.adam_seconds
        )
        adam_name = "Adam(1e-3, batch 256)"
        for name, (reached, epochs, val, total, curve) in (("LM", lm), (adam_name, adam)):
            text = (
                f"{reached:.1f} s ({epochs} epochs)"
                if reached
                else (f"not reached in {total:.0f} s ({epochs} epochs, val MSE {val:.4f})")
            )
            print(f"time to val MSE <= {args.target} (wall, incl. tracing): {name} {text}")
            rows.append(
                dict(benchmark="lm_rosenbrock_6d",
                     problem=f"{problem}, to val MSE <= {args.target:g}",
                     method="ours" if name == "LM" else name, seed=0, epochs=epochs, val_mse=val,
                     seconds=reached, seconds_unit="s to the target (incl. tracing)",
                     total_seconds=total, curve=curve, plot=problem,
                     **({"baseline": [adam_name]} if name == "LM" else {}))
            )  # fmt: skip
        write_rows(args.json, rows)
    if args.json:
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
