"""Peak memory of a DEC fit on rows streamed from a generator against rows held in memory.

Two fits of the same DEC (small budgets: the figure is memory, not quality), each in its own
process so that each peak RSS (`ru_maxrss`) is its own:

- `streamed`: `--streamed-rows` (default 2,000,000) x 64 synthetic rows (10 Gaussian blobs),
  generated batch by batch by a Python generator behind `tf.data.Dataset.from_generator`; the
  same rows in the same order on every pass. Never held: X would be 512 MB in float32.
- `memory`: `--memory-rows` (default 200,000) rows of the same generator as one NumPy array.

Also printed: the bytes of X, of P (n x k float32) and of the embedding (n x dims[-1]), which the
streamed fit does hold, and the accuracy against the blobs (a sanity check, not a benchmark).

Run from the repository root, niced (the CPU is shared); the rows go to `--json`:
    nice -n 5 python -m benchmarks.speed.streaming_memory
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.rows import add_json_argument, child_env, write_rows  # noqa: E402

N_FEATURES = 64
N_CLUSTERS = 10
GENERATOR_BATCH = 8192


def blobs(start, stop, seed=0):
    """Rows `start:stop` of the synthetic data: a pure function of the row numbers."""
    import numpy as np

    centres = np.random.default_rng(seed).normal(scale=4.0, size=(N_CLUSTERS, N_FEATURES))
    rows = np.arange(start, stop)
    labels = rows % N_CLUSTERS
    noise = np.random.default_rng([seed, start]).normal(size=(stop - start, N_FEATURES))
    return (centres[labels] + noise).astype(np.float32), labels


def child(kind, n_rows, args):
    import numpy as np
    import tensorflow as tf

    from keras_cluster.estimators import DEC
    from keras_cluster.metrics import clustering_accuracy

    def generate():
        for start in range(0, n_rows, GENERATOR_BATCH):
            yield blobs(start, min(start + GENERATOR_BATCH, n_rows))[0]

    if kind == "streamed":
        x = tf.data.Dataset.from_generator(
            generate, output_signature=tf.TensorSpec((None, N_FEATURES), tf.float32)
        )
    else:
        x = blobs(0, n_rows)[0]
    estimator = DEC(
        n_clusters=N_CLUSTERS,
        dims=(64, 32, 10),
        finetune_epochs=1,
        batch_size=args.batch_size,
        update_interval=args.update_interval,
        max_iter=args.max_iter,
        kmeans_n_init=1,
        random_state=0,
        verbose=0,
    )
    start = time.perf_counter()
    estimator.fit(x)
    seconds = time.perf_counter() - start
    y = np.arange(n_rows) % N_CLUSTERS
    result = {
        "kind": kind,
        "rows": n_rows,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "fit_s": seconds,
        "acc": float(clustering_accuracy(y, estimator.labels_)),
        "x_mb": n_rows * N_FEATURES * 4 / 2**20,
        "p_mb": n_rows * N_CLUSTERS * 4 / 2**20,
        "embedding_mb": n_rows * 10 * 4 / 2**20,
    }
    print(json.dumps(result), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streamed-rows", type=int, default=2_000_000)
    parser.add_argument("--memory-rows", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--update-interval", type=int, default=100)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--child", choices=["streamed", "memory"])
    parser.add_argument("--rows", type=int)
    add_json_argument(parser, "streaming_memory")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args)
        return
    common = [
        f"--batch-size={args.batch_size}",
        f"--update-interval={args.update_interval}",
        f"--max-iter={args.max_iter}",
    ]
    rows = []
    for kind, n_rows in (("memory", args.memory_rows), ("streamed", args.streamed_rows)):
        done = subprocess.run(
            [sys.executable, "-m", __spec__.name, f"--child={kind}", f"--rows={n_rows}", *common],
            capture_output=True,
            text=True,
            check=True,
            env=child_env(),
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"DEC dims 64-32-10, 1 pretraining epoch, {args.max_iter} self-training batches of "
        f"{args.batch_size}, P every {args.update_interval}"
    )
    print(
        f"{'X':>9} {'rows':>10} {'peak RSS MB':>12} {'X MB':>8} {'P MB':>6} "
        f"{'embed MB':>9} {'fit s':>7} {'ACC':>6}"
    )
    for row in rows:
        print(
            f"{row['kind']:>9} {row['rows']:>10,} {row['peak_rss_mb']:>12.0f} {row['x_mb']:>8.0f} "
            f"{row['p_mb']:>6.0f} {row['embedding_mb']:>9.0f} {row['fit_s']:>7.0f} "
            f"{row['acc']:>6.3f}"
        )
    problem = (
        f"DEC 64-32-10, {args.max_iter} self-training batches of {args.batch_size}, "
        f"P every {args.update_interval}"
    )
    write_rows(
        args.json,
        [
            dict(
                benchmark="streaming_memory", problem=problem, method=row.pop("kind"), seed=0, **row
            )
            for row in rows
        ],
    )


if __name__ == "__main__":
    main()
