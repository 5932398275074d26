"""6-D Rosenbrock: ours vs tf-levenberg-marquardt vs torch-levenberg-marquardt, and vs Adam.

10,000 training points uniform in [-2, 2]^6 (2,000 more for validation), target
sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 divided by its std, net 6-12-10-8-1 tanh (311
weights), float32, full batch, 50 epochs, from the initial weights of each of `--seeds` (five by
default; one seed's weights are the same for every method).

Our default (`mu_rule="tutorial"`, the peer's rule) and `mu_rule="nielsen"` are both run; the
summary gives each method's median validation MSE and s/epoch over the seeds, and on how many
seeds ours ends at or below each peer. Then the wall time of LM and of Adam(1e-3, batches of 256)
to a validation MSE of `--target` (initial weights 0). A peer
that is not importable is left out with a notice. Each run's validation MSE after every epoch
(not timed) is the loss-against-time curve of the report; the rows go to `--json`.

Run from the repository root, niced (the CPU is shared), in a venv with the peers
(`benchmarks/requirements-peers.txt`):
    nice -n 5 python -m benchmarks.peers.lm_rosenbrock_6d [--epochs 50] [--seeds 0 1 2 3 4] \
        [--skip-adam]
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
NIELSEN = "ours, mu_rule='nielsen'"


def side_by_side(data, epochs, seed, peers, record):
    """Ours (both mu rules) and the importable peers, `epochs` full-batch epochs from one start.

    The initial weights are those of `mlp(..., seed)`; returns `{method: (val MSE, s/epoch)}`.
    """
    model = mlp(6, [12, 10, 8], "float32", seed)
    initial = model.get_weights()

    def fresh():
        copy = mlp(6, [12, 10, 8], "float32", seed)
        copy.set_weights(initial)
        return copy

    out = {}
    val, timer = fit_ours(model, *data, epochs)
    out["ours"] = val, record("ours", seed, val, timer.times, timer.curve, baseline=peers)
    val, timer = fit_ours(fresh(), *data, epochs, mu_rule="nielsen")
    out[NIELSEN] = val, record(NIELSEN, seed, val, timer.times, timer.curve, baseline=peers)
    if TF_PEER in peers:
        val, timer = fit_tf_peer(fresh(), *data, epochs)
        out[TF_PEER] = val, record(TF_PEER, seed, val, timer.times, timer.curve)
    if TORCH_PEER in peers:
        val, times, curve = fit_torch_peer(fresh(), *data, epochs, "float32")
        out[TORCH_PEER] = val, record(TORCH_PEER, seed, val, times, curve)
    return out


def summary(by_seed):
    """Lines comparing the runs: per method, median val MSE and s/epoch, ours against each."""
    methods = list(next(iter(by_seed.values())))
    lines = []
    for method in methods:
        vals = [runs[method][0] for runs in by_seed.values()]
        speeds = [runs[method][1] for runs in by_seed.values()]
        lines.append(
            f"  {method:<28} val MSE median {np.median(vals):.5f} "
            f"(range {min(vals):.5f}-{max(vals):.5f}) | s/epoch median {np.median(speeds):.4f}"
        )
    for peer in (TF_PEER, TORCH_PEER):
        if peer not in methods:
            continue
        for ours in ("ours", NIELSEN):
            at_most = sum(runs[ours][0] <= runs[peer][0] for runs in by_seed.values())
            ratios = [runs[ours][1] / runs[peer][1] for runs in by_seed.values()]
            lines.append(
                f"  {ours} vs {peer}: val MSE <= the peer's on {at_most} of {len(by_seed)} "
                f"initial weights; s/epoch ratio median {np.median(ratios):.2f}"
            )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2, 3, 4],
        help="initial weights of the side-by-side fits (the data stay the same)",
    )
    parser.add_argument("--target", type=float, default=0.02, help="LM vs Adam target val MSE")
    parser.add_argument("--adam-seconds", type=float, default=120.0)
    parser.add_argument("--skip-adam", action="store_true", help="only the side-by-side fits")
    add_json_argument(parser, "lm_rosenbrock_6d")
    args = parser.parse_args()
    data = rosenbrock_data()
    problem = "rosenbrock-6d"
    rows = []

    def record(method, seed, val, times, curve, **extra):
        rows.append(
            dict(benchmark="lm_rosenbrock_6d", problem=problem, method=method, seed=seed,
                 epochs=len(times), val_mse=val, seconds=median_after_first(times),
                 seconds_unit="s/epoch (median after the first)", curve=curve, plot=problem,
                 **extra)
        )  # fmt: skip
        return rows[-1]["seconds"]

    peers = [
        name
        for name, module in (
            (TF_PEER, "tf_levenberg_marquardt"),
            (TORCH_PEER, "torch_levenberg_marquardt"),
        )
        if peer_available(module, name)
    ]
    by_seed = {}
    for seed in args.seeds:
        by_seed[seed] = side_by_side(data, args.epochs, seed, peers, record)
        runs = " ".join(f"{m} {v:.5f}" for m, (v, _) in by_seed[seed].items())
        print(f"6-D Rosenbrock, {args.epochs} epochs, initial weights {seed}: val MSE {runs}")
        write_rows(args.json, rows)
    print("\n".join(summary(by_seed)), flush=True)

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
