"""Levenberg-Marquardt defaults measured over seeds, side by side with Adam and the peers.

Three sweeps, each in one run (the machine's load is shared by every method of a seed):

`digits`: the 64-32(tanh)-10 digits classifier of `lm_digits.py` (1,437 training and 360
validation images, float32). For every seed (the initial weights and the batch order), an
equal-size grid of each method trains on the same mini-batches of `--batch` (a `tf.data`
pipeline reshuffled every epoch, `drop_remainder=True`) until the validation accuracy reaches
`--target` (checked after every epoch, the checking time not counted; tracing counted) or
`--max-seconds` pass. Adam: Keras's default `learning_rate=1e-3` and the other values of
`--adam-lr`; LM (`SparseCategoricalCrossentropy(from_logits=True)`, generalized Gauss-Newton,
the dual form): its defaults and the variants of `--lm`. Printed: each run's seconds, each
method's median over seeds, and the ratios LM / Adam of the defaults and of each grid's best.

`rosenbrock`: the 6-D Rosenbrock fit of `lm_rosenbrock_6d.py` (311 weights, float32, full batch
of 10,000, `--epochs` 50) from `--seeds` initial weights (`tutorial2d`: the tutorial's 2-D task
of `lm_tutorial_2d.py`, 2-10-1, float64, 100 epochs, a data set and initial weights per seed):
our LM (its defaults and the variants of `--lm`), tf-levenberg-marquardt 1.0.3 and
torch-levenberg-marquardt 1.2.3 (the latter on the first `--torch-seeds` seeds: 1 s a step on
2 cores) with the same initial weights. Printed: each seed's validation MSE and seconds per
epoch (median after the first), the ratios to tf-levenberg-marquardt, and their median and
worst over seeds.

A variant is `name:key=value,key=value` (values parsed as Python literals), e.g.
`nielsen:mu_rule='nielsen'`.

Run in the peers venv, niced (the CPU is shared); the figures of the defaults:
    nice -n 5 python benchmarks/lm_defaults_sweep.py digits --seeds 0 1 2 \
        --lm "mu_min=0.03:mu_min=0.03" "mu_min=0.3:mu_min=0.3"
    nice -n 5 python benchmarks/lm_defaults_sweep.py rosenbrock --torch-seeds 2 \
        --lm "nielsen:mu_rule='nielsen'"
    nice -n 5 python benchmarks/lm_defaults_sweep.py tutorial2d --seeds 0 1 2 3 4 \
        --torch-seeds 0 --lm "nielsen:mu_rule='nielsen'"
"""

import argparse
import ast
import functools
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Run as a script (`python benchmarks/lm_defaults_sweep.py`): the repository root on the path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.peers import lm_common  # noqa: E402
from benchmarks.peers.lm_common import (  # noqa: E402
    fit_ours,
    fit_tf_peer,
    fit_torch_peer,
    median_after_first,
    mlp,
)
from benchmarks.peers.lm_digits import AccuracyTimer, digits_split  # noqa: E402
from benchmarks.peers.lm_rosenbrock_6d import rosenbrock_data  # noqa: E402
from benchmarks.peers.lm_tutorial_2d import tutorial_data  # noqa: E402
from keras_cluster.callbacks import MuAdaptation  # noqa: E402
from keras_cluster.optimizers import LevenbergMarquardt  # noqa: E402

# lm_common.import_torch_peer replaces the package in sys.modules, so a second call cannot find
# its spec: import the peer once per process.
lm_common.import_torch_peer = functools.cache(lm_common.import_torch_peer)


def variant(text):
    """`name:key=value,...` -> (name, kwargs)."""
    name, _, args = text.partition(":")
    kwargs = {}
    for pair in filter(None, args.split(",")):
        key, _, value = pair.partition("=")
        kwargs[key.strip()] = ast.literal_eval(value.strip())
    if "mu_min" in kwargs and "mu" not in kwargs:  # the initial mu within the bounds
        kwargs["mu"] = max(LevenbergMarquardt().mu_init, kwargs["mu_min"])
    return name, kwargs


def classifier(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(32, "tanh"), keras.layers.Dense(10)]
    )


def digits_run(optimizer, initial, seed, data, args):
    x, xv, y, yv = data
    model = classifier(seed)
    model.set_weights(initial)
    model.compile(
        optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    timer = AccuracyTimer(model, xv, yv, args.target, args.max_seconds)
    callbacks = [timer]
    if isinstance(optimizer, LevenbergMarquardt):
        callbacks.insert(0, MuAdaptation(verbose=0))
    batches = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed)
        .batch(args.batch, drop_remainder=True)
    )
    model.fit(batches, epochs=100000, callbacks=callbacks, verbose=0)
    mu = float(np.asarray(optimizer.mu)) if isinstance(optimizer, LevenbergMarquardt) else None
    return timer.reached, timer.epochs, timer.accuracy, mu


def summarise(label, seconds):
    """Median over seeds (a run that did not reach the target counts as infinite)."""
    values = [np.inf if s is None else s for s in seconds]
    return statistics.median(values)


def digits(args):
    data = digits_split()
    methods = [(f"Adam(lr={lr:g})", lambda lr=lr: keras.optimizers.Adam(lr)) for lr in args.adam_lr]
    methods += [
        (f"LM {name}", lambda kwargs=kwargs: LevenbergMarquardt(**kwargs))
        for name, kwargs in [("defaults", {})] + [variant(v) for v in args.lm]
    ]
    results = {name: [] for name, _ in methods}
    epochs_to_target = {name: [] for name, _ in methods}
    for seed in args.seeds:
        initial = classifier(seed).get_weights()
        for name, make in methods:
            reached, epochs, accuracy, mu = digits_run(make(), initial, seed, data, args)
            results[name].append(reached)
            epochs_to_target[name].append(epochs if reached is not None else None)
            text = f"{reached:.2f} s" if reached is not None else f"not reached ({accuracy:.3f})"
            mu_text = f", final mu {mu:.3g}" if mu is not None else ""
            print(f"seed {seed}  {name}: {text} in {epochs} epochs{mu_text}", flush=True)
    print(
        f"\ndigits 64-32-10, batch {args.batch}, wall seconds to validation accuracy >= "
        f"{args.target} (median over seeds {args.seeds}; inf: not reached in {args.max_seconds} s):"
    )
    medians = {name: summarise(name, seconds) for name, seconds in results.items()}
    for name, seconds in results.items():
        runs = " ".join("-" if s is None else f"{s:.2f}" for s in seconds)
        epochs = summarise(name, epochs_to_target[name])
        print(f"  {name:32s} median {medians[name]:6.2f} s ({epochs:g} epochs)   runs {runs}")
    adam = {n: m for n, m in medians.items() if n.startswith("Adam")}
    lm = {n: m for n, m in medians.items() if n.startswith("LM")}
    lm_default = medians["LM defaults"]
    adam_best, lm_best = min(adam, key=adam.get), min(lm, key=lm.get)
    if "Adam(lr=0.001)" in adam:
        print(f"  defaults: LM / Adam(1e-3) = {lm_default / adam['Adam(lr=0.001)']:.2f}")
    print(f"  best of each grid: {lm_best} / {adam_best} = {lm[lm_best] / adam[adam_best]:.2f}")
    print(f"  LM defaults / best Adam ({adam_best}) = {lm_default / adam[adam_best]:.2f}")
    worst_lm = max(lm, key=lm.get)
    print(f"  worst LM ({worst_lm}) / best Adam = {lm[worst_lm] / adam[adam_best]:.2f}")


def least_squares(args):
    """The squared-error fits: 6-D Rosenbrock (float32) or the tutorial's 2-D task (float64)."""
    if args.sweep == "rosenbrock":
        inputs, hidden, dtype = 6, [12, 10, 8], "float32"
    else:
        inputs, hidden, dtype = 2, [10], "float64"
        keras.backend.set_floatx("float64")
    variants = [("defaults", {})] + [variant(v) for v in args.lm]
    rows = []
    for index, seed in enumerate(args.seeds):
        # Rosenbrock: one data set, seeds draw the initial weights; 2-D: both (lm_tutorial_2d).
        data = rosenbrock_data() if args.sweep == "rosenbrock" else tutorial_data(seed)
        initial = mlp(inputs, hidden, dtype, seed).get_weights()

        def fresh(initial=initial, seed=seed):
            model = mlp(inputs, hidden, dtype, seed)
            model.set_weights(initial)
            return model

        row = {"seed": seed}
        for name, kwargs in variants:
            val, timer = fit_ours(fresh(), *data, args.epochs, **kwargs)
            row[name] = (val, median_after_first(timer.times))
        if not args.skip_tf:
            val, timer = fit_tf_peer(fresh(), *data, args.epochs)
            row["tf-lm"] = (val, median_after_first(timer.times))
        if index < args.torch_seeds:
            val, times = fit_torch_peer(fresh(), *data, args.epochs, dtype)
            row["torch-lm"] = (val, median_after_first(times))
        rows.append(row)
        text = "  ".join(f"{k} {v[0]:.5f} ({v[1]:.4f} s/ep)" for k, v in row.items() if k != "seed")
        print(f"seed {seed}: val MSE {text}", flush=True)
    if args.skip_tf:
        return
    title = "6-D Rosenbrock, 311 weights" if args.sweep == "rosenbrock" else "2-D tutorial task"
    print(f"\n{title}, {args.epochs} epochs, seeds {args.seeds}:")
    for name, _ in variants + [("torch-lm", None)]:
        present = [row for row in rows if name in row]
        if not present:
            continue
        mse = [row[name][0] / row["tf-lm"][0] for row in present]
        speed = [row[name][1] / row["tf-lm"][1] for row in present]
        wins = sum(m <= 1.0 for m in mse)
        print(
            f"  {name:20s} val MSE / tf-lm: median {statistics.median(mse):.3f}  worst "
            f"{max(mse):.3f}  (<= 1 on {wins}/{len(mse)}; per seed "
            + " ".join(f"{m:.3f}" for m in mse)
            + f") | s/epoch / tf-lm: median {statistics.median(speed):.3f} worst {max(speed):.3f}"
        )
    print(
        "  median val MSE: "
        + "  ".join(
            f"{name} {statistics.median([row[name][0] for row in rows if name in row]):.5f}"
            for name in [v[0] for v in variants] + ["tf-lm", "torch-lm"]
            if any(name in row for row in rows)
        )
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="sweep", required=True)
    d = sub.add_parser("digits")
    d.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    d.add_argument("--target", type=float, default=0.97)
    d.add_argument("--max-seconds", type=float, default=60.0)
    d.add_argument("--batch", type=int, default=32)
    d.add_argument("--adam-lr", type=float, nargs="+", default=[1e-3, 3e-3, 1e-2])
    d.add_argument("--lm", nargs="*", default=[], help="LM variants besides the defaults")
    for name, epochs in (("rosenbrock", 50), ("tutorial2d", 100)):
        r = sub.add_parser(name)
        r.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
        r.add_argument("--epochs", type=int, default=epochs)
        r.add_argument("--lm", nargs="*", default=[], help="LM variants besides the defaults")
        r.add_argument("--torch-seeds", type=int, default=10**6)
        r.add_argument("--skip-tf", action="store_true", help="ours only (exploration)")
    args = parser.parse_args()
    digits(args) if args.sweep == "digits" else least_squares(args)


if __name__ == "__main__":
    main()
