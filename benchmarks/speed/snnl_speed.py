"""SNNL forward + backward: keras_cluster's log-space loss against the exp/epsilon formula.

The exp/epsilon formula is written here from its description (exp(-d/T), a division guarded by
epsilon, log(epsilon + ...)); it is the published tutorial's approach, not its code. Both get the
same pairwise distances and are compiled the same way (tf.function, with and without XLA).

Run from the repository root, niced (the CPU is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.speed.snnl_speed [--batch 2048] [--width 128] [--repeats 20]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.rows import add_json_argument, write_rows  # noqa: E402
from benchmarks.speed.timing import interleaved  # noqa: E402
from keras_cluster.losses import soft_nearest_neighbor_loss  # noqa: E402
from keras_cluster.losses.snnl import pairwise_distances  # noqa: E402

EPSILON = 1e-5


def snnl_exp_epsilon(labels, features, temperature, distance):
    """Tutorial-style SNNL: probabilities exp(-d/T) / (eps + row sum), then log(eps + sum)."""
    n = tf.shape(features)[0]
    kernel = tf.exp(-pairwise_distances(features, distance) / temperature)
    kernel = kernel - tf.eye(n) * kernel
    pick = kernel / (EPSILON + tf.reduce_sum(kernel, axis=1, keepdims=True))
    same = tf.cast(tf.equal(labels[:, None], labels[None, :]), features.dtype)
    return -tf.reduce_mean(tf.math.log(EPSILON + tf.reduce_sum(pick * same, axis=1)))


def step(loss_fn, distance, jit):
    @tf.function(jit_compile=jit)
    def run(labels, features, temperature):
        with tf.GradientTape() as tape:
            tape.watch(features)
            loss = loss_fn(labels, features, temperature, distance)
        return loss, tape.gradient(loss, features)

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=20)
    add_json_argument(parser, "snnl_speed")
    args = parser.parse_args()
    rows = []
    rng = np.random.default_rng(0)
    labels = tf.constant(rng.integers(0, args.classes, size=args.batch))
    features = tf.constant(rng.normal(size=(args.batch, args.width)).astype("float32"))
    devices = [device.name for device in tf.config.list_physical_devices()]
    print(f"batch {args.batch}, width {args.width}, {args.classes} classes, {devices}")
    print(
        f"{'distance':>9} {'T':>5} {'XLA':>5} | {'ours ms':>8} {'exp/eps ms':>10} "
        f"{'ratio(median)':>13} {'ratio(min)':>10} | {'ours loss':>10} {'exp/eps loss':>12} | "
        f"{'ours |grad|':>11} {'exp/eps |grad|':>14}"
    )
    for distance in ("cosine", "euclidean"):
        for temperature in (0.5, 0.01):
            t = tf.constant(temperature)
            for jit in (True, False):
                functions = [
                    step(soft_nearest_neighbor_loss, distance, jit),
                    step(snnl_exp_epsilon, distance, jit),
                ]
                ours, base = interleaved(functions, (labels, features, t), args.repeats)
                (our_loss, our_grad), (base_loss, base_grad) = ours[2], base[2]
                print(
                    f"{distance:>9} {temperature:>5} {str(jit):>5} | {1e3 * ours[0]:8.1f} "
                    f"{1e3 * base[0]:10.1f} {ours[0] / base[0]:13.2f} {ours[1] / base[1]:10.2f} | "
                    f"{float(our_loss):10.4f} {float(base_loss):12.4f} | "
                    f"{float(tf.norm(our_grad)):11.3e} {float(tf.norm(base_grad)):14.3e}"
                )
                problem = (
                    f"batch {args.batch} x {args.width}, {distance}, T={temperature}, "
                    f"{'XLA' if jit else 'graph'}"
                )
                for method, timed, loss in (
                    ("soft_nearest_neighbor_loss (ours)", ours, our_loss),
                    ("exp/epsilon formula", base, base_loss),
                ):
                    rows.append(
                        dict(benchmark="snnl_speed", problem=problem, method=method, seed=0,
                             seconds=timed[0], seconds_unit="s a forward + backward (median)",
                             min_seconds=timed[1], loss=float(loss))
                    )  # fmt: skip
                rows[-2]["baseline"] = ["exp/epsilon formula"]
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
