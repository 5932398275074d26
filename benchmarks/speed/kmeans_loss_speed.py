"""k-means loss forward + backward: `kmeans_loss` against the forum's (n, k, d) broadcast form.

Both are differentiated with respect to the codes and the centroids and compiled the same way
(tf.function with XLA; without XLA too, except the large shape's broadcast form, which needs
several n x k x d float32 tensors (2 GiB each) unless `--graph-large` is given).

Run from the repository root, niced (the CPU is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.speed.kmeans_loss_speed [--repeats 10] [--repeats-small 300]
        [--graph-large] [--shapes 65536x256x32 2000x10x10]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.rows import add_json_argument, write_rows  # noqa: E402
from benchmarks.speed.timing import interleaved  # noqa: E402
from keras_cluster.losses import kmeans_loss  # noqa: E402

SHAPES = ((65_536, 256, 32), (2_000, 10, 10))


def kmeans_broadcast(embeddings, centroids):
    """The forum form: the full (n, k, d) difference tensor, then min over k."""
    difference = embeddings[:, None, :] - centroids[None, :, :]
    return tf.reduce_mean(tf.reduce_min(tf.reduce_sum(tf.square(difference), axis=-1), axis=1))


def step(loss_fn, jit):
    @tf.function(jit_compile=jit)
    def run(embeddings, centroids):
        with tf.GradientTape() as tape:
            tape.watch([embeddings, centroids])
            loss = loss_fn(embeddings, centroids)
        grads = tape.gradient(loss, [embeddings, centroids])
        return loss, [tf.convert_to_tensor(grad) for grad in grads]

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="at the large shape")
    parser.add_argument("--repeats-small", type=int, default=300, help="at the small shape")
    parser.add_argument("--graph-large", action="store_true")
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=[f"{n}x{k}x{d}" for n, k, d in SHAPES],
        help="n x k x d of each run (embeddings, centroids, width)",
    )
    add_json_argument(parser, "kmeans_loss_speed")
    args = parser.parse_args()
    shapes = [tuple(int(v) for v in shape.split("x")) for shape in args.shapes]
    rows = []
    rng = np.random.default_rng(0)
    print(
        f"{'n':>7} {'k':>4} {'d':>3} {'XLA':>5} | {'ours ms':>8} {'forum ms':>9} "
        f"{'ratio(median)':>13} {'ratio(min)':>10} | {'rel. loss diff':>14} {'rel. grad diff':>14}"
    )
    for n, k, d in shapes:
        centroids = tf.constant(rng.normal(size=(k, d)).astype("float32") * 3)
        labels = rng.integers(0, k, size=n)
        noise = rng.normal(size=(n, d)).astype("float32")
        embeddings = tf.constant(centroids.numpy()[labels] + noise)
        for jit in (True, False):
            if not jit and n * k * d > 2**26 and not args.graph_large:
                print(f"{n:>7} {k:>4} {d:>3} {str(jit):>5} | skipped (use --graph-large)")
                continue
            functions = [step(kmeans_loss, jit), step(kmeans_broadcast, jit)]
            repeats = args.repeats if n * k * d > 2**26 else args.repeats_small
            ours, forum = interleaved(functions, (embeddings, centroids), repeats)
            (our_loss, our_grads), (forum_loss, forum_grads) = ours[2], forum[2]
            loss_diff = abs(float(our_loss) - float(forum_loss)) / abs(float(forum_loss))
            grad_diff = max(
                float(tf.norm(a - b) / tf.norm(b))
                for a, b in zip(our_grads, forum_grads, strict=True)
            )
            print(
                f"{n:>7} {k:>4} {d:>3} {str(jit):>5} | {1e3 * ours[0]:8.2f} {1e3 * forum[0]:9.2f} "
                f"{ours[0] / forum[0]:13.3f} {ours[1] / forum[1]:10.3f} | "
                f"{loss_diff:14.2e} {grad_diff:14.2e}"
            )
            problem = f"n={n} k={k} d={d}, {'XLA' if jit else 'graph'}"
            for method, timed in (("kmeans_loss (ours)", ours), ("forum broadcast", forum)):
                rows.append(
                    dict(benchmark="kmeans_loss_speed", problem=problem, method=method, seed=0,
                         seconds=timed[0], seconds_unit="s a forward + backward (median)",
                         min_seconds=timed[1])
                )  # fmt: skip
            rows[-2].update(baseline=["forum broadcast"], rel_loss_diff=loss_diff,
                            rel_grad_diff=grad_diff)  # fmt: skip
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
