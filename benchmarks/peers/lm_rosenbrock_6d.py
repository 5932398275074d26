"""6-D Rosenbrock: ours vs tf-levenberg-marquardt vs torch-levenberg-marquardt, and vs Adam.

10,000 training points uniform in [-2, 2]^6 (2,000 more for validation), target
sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 divided by its std, net 6-12-10-8-1 tanh (311
weights), float32, full batch, 50 epochs, the same initial weights for every method.

Our default (`mu_rule="tutorial"`, the peer's rule) and `mu_rule="nielsen"` are both run.

Run in the peers venv, niced (the CPU is shared):
    python benchmarks/lm_rosenbrock_6d.py [--epochs 50] [--skip-adam]
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
    return timer.reached, len(timer.times), val, time.perf_counter() - timer.start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--target", type=float, default=0.02, help="LM vs Adam target val MSE")
    parser.add_argument("--adam-seconds", type=float, default=120.0)
    parser.add_argument("--skip-adam", action="store_true", help="only the side-by-side fits")
    args = parser.parse_args()
    data = rosenbrock_data()

    model = mlp(6, [12, 10, 8], "float32", 0)
    initial = model.get_weights()
    ours_val, ours_timer = fit_ours(model, *data, args.epochs)
    nielsen = mlp(6, [12, 10, 8], "float32", 0)
    nielsen.set_weights(initial)
    nielsen_val, nielsen_timer = fit_ours(nielsen, *data, args.epochs, mu_rule="nielsen")
    peer = mlp(6, [12, 10, 8], "float32", 0)
    peer.set_weights(initial)
    peer_val, peer_timer = fit_tf_peer(peer, *data, args.epochs)
    torch_model = mlp(6, [12, 10, 8], "float32", 0)
    torch_model.set_weights(initial)
    torch_val, torch_times = fit_torch_peer(torch_model, *data, args.epochs, "float32")
    nielsen_s = median_after_first(nielsen_timer.times)
    ours, peer_s, torch_s = (
        median_after_first(ours_timer.times),
        median_after_first(peer_timer.times),
        median_after_first(torch_times),
    )
    print(
        f"6-D Rosenbrock, 311 weights, {args.epochs} epochs: val MSE ours {ours_val:.5f}  "
        f"tf-lm {peer_val:.5f}  torch-lm {torch_val:.5f} | s/epoch ours {ours:.4f}  "
        f"tf-lm {peer_s:.4f}  torch-lm step {torch_s:.4f} | ratio ours/tf-lm {ours / peer_s:.2f}"
        f"  ours/torch-lm {ours / torch_s:.2f}",
        flush=True,
    )
    print(
        f"  ours with mu_rule='nielsen': val MSE {nielsen_val:.5f} | s/epoch {nielsen_s:.4f} | "
        f"ratio to tf-lm {nielsen_s / peer_s:.2f}",
        flush=True,
    )

    if args.skip_adam:
        return
    lm = time_to_target(LevenbergMarquardt(), data, args.target, 500, args.adam_seconds)
    adam = time_to_target(keras.optimizers.Adam(1e-3), data, args.target, 100000, args.adam_seconds)
    for name, (reached, epochs, val, total) in (("LM", lm), ("Adam(1e-3, batch 256)", adam)):
        text = (
            f"{reached:.1f} s ({epochs} epochs)"
            if reached
            else (f"not reached in {total:.0f} s ({epochs} epochs, val MSE {val:.4f})")
        )
        print(f"time to val MSE <= {args.target} (wall, incl. tracing): {name} {text}")


if __name__ == "__main__":
    main()
