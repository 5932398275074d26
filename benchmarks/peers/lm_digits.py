"""Digits classifier 64-32(tanh)-10: LM with generalized Gauss-Newton against Adam and √CE LM.

scikit-learn's 8x8 digits (1,797 images, pixels / 16), a stratified split of 1,437 training and
360 validation images, float32, the same initial weights for every method. Each method trains
until the validation accuracy reaches `--target` (checked after every epoch; the seconds spent
checking are not counted) or `--max-seconds` pass:
- ours: `LevenbergMarquardt` on `SparseCategoricalCrossentropy(from_logits=True)`, full batch
  (curvature J^T H J, H = diag(p) - p p^T per example), its defaults: one batch an epoch, so
  the floor on `mu` is 1e-10 (`LevenbergMarquardt.mu_floor`);
- ours on mini-batches of `--lm-batch` (32) with its defaults, as a user writes it:
  `LevenbergMarquardt()` and `model.fit(x, y, batch_size=32)`. 320 rows F^T J a batch against
  2,410 weights, so each step is solved in the dual form (a 320 x 320 system instead of
  2,410 x 2,410; chosen at run time, since Keras gives arrays whose last batch is partial a
  dynamic batch size); the default floor on `mu` for a cross-entropy (0.1) keeps a step from
  fitting its batch exactly. `--lm-mu-min` sets another floor;
- ours, full batch, with the curvature `J^T H J` estimated each step on a sample of
  `--lm-curvature-batch` examples (32 and 64: 320 and 640 rows, solved through the rows x rows
  system), the gradient and the accept/reject on the whole training set
  (`LevenbergMarquardt(curvature_batch_size=...)`, subsampled Gauss-Newton);
- Adam at each of `--adam-lr` (1e-3, Keras's default, 3e-3 and 1e-2), batches of 32;
- tf-levenberg-marquardt 1.0.3 on its `SparseCategoricalCrossentropy` (residuals sqrt(CE),
  Gauss-Newton on those), full batch.

Every method runs once a seed of `--seeds` (0 to 4): the seed draws the mini-batches' shuffling
and the curvature samples; the initial weights and the split are the same for all. Every method
reads the same kind of input, a `tf.data` pipeline built once (`input_pipeline`). The report
gives the ratios to the peers as medians over the seeds.

The peer is optional (left out with a notice when not importable; see
`benchmarks/requirements-peers.txt`). Every run records its loss-against-time curve (training
loss, validation cross-entropy and accuracy after every epoch; the checking time left out) in the
rows written to `--json`.

Run from the repository root, niced (the CPU is shared):
    nice -n 5 python -m benchmarks.peers.lm_digits [--target 0.97] [--max-seconds 120]
        [--lm-batch 32] [--lm-mu-min FLOOR] [--lm-curvature-batch 32 64]
        [--adam-lr 1e-3 3e-3 1e-2] [--seeds 0 1 2 3 4]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from benchmarks.peers.lm_common import new_curve  # noqa: E402
from benchmarks.rows import add_json_argument, peer_available, write_rows  # noqa: E402
from keras_cluster.callbacks import MuAdaptation  # noqa: E402
from keras_cluster.optimizers import LevenbergMarquardt  # noqa: E402


class AccuracyTimer(keras.callbacks.Callback):
    """Stops when the validation accuracy reaches `target`; wall time minus checking time."""

    def __init__(self, net, xv, yv, target, max_seconds, seed=0):
        super().__init__()
        self.seed = seed
        self.net, self.xv, self.yv = net, xv, yv
        self.target, self.max_seconds = target, max_seconds

    def on_train_begin(self, logs=None):
        self.start, self.checking, self.reached, self.epochs = time.perf_counter(), 0.0, None, 0
        self.accuracy = 0.0
        self.curve = {**new_curve(), "val_accuracy": []}

    def on_epoch_end(self, epoch, logs=None):
        check = time.perf_counter()
        elapsed = check - self.start - self.checking
        logits = self.net(self.xv, training=False)
        self.accuracy = float(np.mean(np.argmax(logits, axis=1) == self.yv))
        val_loss = float(
            keras.ops.mean(
                keras.losses.sparse_categorical_crossentropy(self.yv, logits, from_logits=True)
            )
        )
        self.checking += time.perf_counter() - check
        logs = logs or {}
        self.curve["seconds"].append(elapsed)
        self.curve["loss"].append(float(logs["loss"]) if "loss" in logs else None)
        self.curve["val_loss"].append(val_loss)
        self.curve["val_accuracy"].append(self.accuracy)
        self.epochs = epoch + 1
        if self.accuracy >= self.target:
            self.reached = elapsed
            self.model.stop_training = True
        elif elapsed > self.max_seconds:
            self.model.stop_training = True

    def summary(self):
        if self.reached is not None:
            return f"{self.reached:.2f} s ({self.epochs} epochs)"
        return f"not reached ({self.epochs} epochs, val accuracy {self.accuracy:.3f})"

    def row(self, method, target, **extra):
        """The JSON row of this run (`benchmarks.rows`)."""
        return dict(
            benchmark="lm_digits",
            problem=f"digits 64-32-10, to val accuracy >= {target:g}",
            method=method,
            seed=self.seed,
            seconds=self.reached,
            seconds_unit="s to the target (checking not counted)",
            epochs=self.epochs,
            val_accuracy=self.accuracy,
            curve=self.curve,
            plot="digits 64-32-10",
            **extra,
        )


def input_pipeline(x, y, batch_size, seed):
    """The training input of every method: a `tf.data` pipeline built once, from memory.

    Full batch (`batch_size >= len(x)`): the one batch, cached. Mini-batches: reshuffled every
    epoch from `seed`, the last batch partial, prefetched. Not NumPy arrays given to `fit`:
    Keras's array adapter shuffles and rebuilds its pipeline every epoch, about 20 ms an epoch
    on this model, which is most of a full-batch LM step here (measured: LM with
    `curvature_batch_size=32`, 41 ms an epoch from arrays and 15 ms from this pipeline;
    Adam(0.01) on batches of 32, 68 and 52 ms an epoch).
    """
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if batch_size >= len(x):
        return data.batch(len(x)).cache()
    data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def digits_split():
    """`(x, x_val, y, y_val)`: digits' pixels / 16 in float32, 1,437 and 360 images, stratified."""
    digits = load_digits()
    return train_test_split(
        (digits.data / 16.0).astype("float32"),
        digits.target,
        test_size=360,
        stratify=digits.target,
        random_state=0,
    )


def classifier(initial=None):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(32, "tanh"), keras.layers.Dense(10)]
    )
    if initial is not None:
        model.set_weights(initial)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", type=float, default=0.97)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--lm-batch", type=int, default=32)
    parser.add_argument("--lm-mu-min", type=float, default=None, help="default: the optimizer's")
    parser.add_argument("--lm-curvature-batch", type=int, nargs="*", default=[32, 64])
    parser.add_argument("--adam-lr", type=float, nargs="+", default=[1e-3, 3e-3, 1e-2])
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2, 3, 4],
        help="the mini-batches' shuffling and the curvature samples' seed (the initial weights "
        "and the split stay those of seed 0)",
    )
    add_json_argument(parser, "lm_digits")
    args = parser.parse_args()
    x, xv, y, yv = digits_split()
    initial = classifier().get_weights()
    peer = peer_available("tf_levenberg_marquardt", "tf-levenberg-marquardt")
    rows = []
    for seed in args.seeds:
        rows += run_seed(args, seed, initial, (x, y, xv, yv), peer)
    write_rows(args.json, rows)
    if args.json:
        print(f"wrote {args.json}")


def run_seed(args, seed, initial, data, peer):
    """Every method once, its shuffling (and curvature samples) drawn from `seed`."""
    x, y, xv, yv = data
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    results, timers = {}, {}
    peer_name = "tf-levenberg-marquardt sqrt(CE), full batch"

    def run(name, model, batch_size, callbacks=(), fit=None):
        timer = AccuracyTimer(model, xv, yv, args.target, args.max_seconds, seed)
        keras.utils.set_random_seed(seed)  # the global seed: with the op's, the shuffling
        batches = input_pipeline(x, y, batch_size, seed)
        (fit or model.fit)(batches, epochs=10000, callbacks=[*callbacks, timer], verbose=0)
        results[name], timers[name] = timer.summary(), timer

    model = classifier(initial)
    model.compile(optimizer=LevenbergMarquardt(), loss=loss)
    run("LM-GGN (ours, full batch)", model, len(x), [MuAdaptation(0)])

    for size in args.lm_curvature_batch:
        model = classifier(initial)
        optimizer = LevenbergMarquardt(curvature_batch_size=size, seed=seed)
        model.compile(optimizer=optimizer, loss=loss)
        name = f"LM-GGN (ours, full batch, curvature_batch_size={size})"
        run(name, model, len(x), [MuAdaptation(0)])

    model = classifier(initial)
    floor = {} if args.lm_mu_min is None else {"mu_min": args.lm_mu_min}
    model.compile(optimizer=LevenbergMarquardt(**floor), loss=loss)
    name = f"LM-GGN (ours, batch {args.lm_batch}, " + (
        "defaults)" if args.lm_mu_min is None else f"mu_min={args.lm_mu_min:g})"
    )
    run(name, model, args.lm_batch, [MuAdaptation(0)])

    adam_names = []
    for learning_rate in args.adam_lr:
        model = classifier(initial)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        adam_names.append(f"Adam({learning_rate:g}, batch 32)")
        run(adam_names[-1], model, 32)

    if peer:
        import tf_levenberg_marquardt as tflm

        model = classifier(initial)
        wrapper = tflm.model.ModelWrapper(model)
        wrapper.compile(
            optimizer=keras.optimizers.SGD(learning_rate=1.0),
            loss=tflm.loss.SparseCategoricalCrossentropy(from_logits=True),
        )

        run(peer_name, model, len(x), fit=wrapper.fit)

    print(f"digits 64-32-10, seed {seed}, wall time to validation accuracy >= {args.target}:")
    for name, text in results.items():
        print(f"  {name}: {text}", flush=True)
    theirs = [name for name in (*adam_names, peer_name) if name in timers]
    return [
        timer.row(name, args.target, **({} if name in theirs else {"baseline": theirs}))
        for name, timer in timers.items()
    ]


if __name__ == "__main__":
    main()
