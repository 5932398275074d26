"""Shared pieces of the Levenberg-Marquardt benchmarks against the peers.

The peers (tf-levenberg-marquardt 1.0.3, torch-levenberg-marquardt 1.2.3) are optional: install
them as `benchmarks/requirements-peers.txt` says. torch-levenberg-marquardt's package `__init__`
imports its Lightning helpers (`utils`: pytorch_lightning, torchmetrics, and through them
torchvision, whose compiled operators fail to register against a torch they were not built for);
`import_torch_peer` loads its `training` module alone, which needs only torch.
"""

import functools
import importlib.util
import os
import sys
import time
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_cluster.callbacks import MuAdaptation  # noqa: E402
from keras_cluster.optimizers import LevenbergMarquardt  # noqa: E402


def new_curve():
    """An empty loss-against-time curve (`benchmarks.rows`)."""
    return {"seconds": [], "loss": [], "val_loss": []}


def mse(predict, x, y):
    """Mean squared error of `predict(x)` against `y`, as a Python float."""
    return float(np.mean((np.asarray(predict(x)) - y) ** 2))


class EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch, and the time from `fit` start until `val_loss <= target`.

    Also records the loss-against-time curve (`self.curve`): the training loss Keras logs and the
    validation loss, from the logs when `fit` validates, else from `validation()` (a function
    returning the validation loss), whose time is left out of the curve's seconds and of
    `reached`. `self.times` (each epoch's wall time) never includes it.
    """

    def __init__(self, target=None, max_seconds=None, validation=None):
        super().__init__()
        self.target, self.max_seconds, self.reached = target, max_seconds, None
        self.validation = validation

    def on_train_begin(self, logs=None):
        self.times, self.start, self.reached = [], time.perf_counter(), None
        self.checking, self.curve = 0.0, new_curve()

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        logs = logs or {}
        self.times.append(now - self._t)
        elapsed = now - self.start - self.checking
        val_loss = logs.get("val_loss")
        if val_loss is None and self.validation is not None:
            val_loss = self.validation()
            self.checking += time.perf_counter() - now
        self.curve["seconds"].append(elapsed)
        self.curve["loss"].append(float(logs["loss"]) if "loss" in logs else None)
        self.curve["val_loss"].append(None if val_loss is None else float(val_loss))
        if self.target is not None and logs.get("val_loss", np.inf) <= self.target:
            self.reached = elapsed
            self.model.stop_training = True
        if self.max_seconds is not None and elapsed > self.max_seconds:
            self.model.stop_training = True


def mlp(inputs, hidden, dtype, seed):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((inputs,), dtype=dtype)]
    layers += [keras.layers.Dense(h, "tanh", dtype=dtype) for h in hidden]
    layers += [keras.layers.Dense(1, dtype=dtype)]
    return keras.Sequential(layers)


def fit_ours(model, x, y, xv, yv, epochs, target=None, **optimizer_args):
    """Full-batch LM fit with our optimizer; returns (val MSE, the `EpochTimer`)."""
    model.compile(optimizer=LevenbergMarquardt(**optimizer_args), loss="mse")
    validation = None if target is not None else (lambda: mse(model, xv, yv))
    timer = EpochTimer(target, validation=validation)
    model.fit(
        x,
        y,
        batch_size=len(x),
        epochs=epochs,
        shuffle=False,  # one full batch: order is irrelevant (the peers do not shuffle either)
        validation_data=(xv, yv) if target is not None else None,
        callbacks=[MuAdaptation(verbose=0), timer],
        verbose=0,
    )
    return float(model.evaluate(xv, yv, batch_size=len(xv), verbose=0)), timer


def fit_tf_peer(model, x, y, xv, yv, epochs):
    """The same fit with tf-levenberg-marquardt 1.0.3 and its defaults (ModelWrapper)."""
    import tf_levenberg_marquardt as tflm

    wrapper = tflm.model.ModelWrapper(model)
    wrapper.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=tflm.loss.MeanSquaredError()
    )
    timer = EpochTimer(validation=lambda: mse(model, xv, yv))
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(len(x)).cache()
    wrapper.fit(dataset, epochs=epochs, callbacks=[timer], verbose=0)
    val = float(np.mean((model.predict(xv, batch_size=len(xv), verbose=0) - yv) ** 2))
    return val, timer


@functools.cache
def import_torch_peer():
    """torch-levenberg-marquardt's training module, without its Lightning helpers (utils).

    Cached: a second import in the same process would find the stub package without a spec.
    """
    spec = importlib.util.find_spec("torch_levenberg_marquardt")
    package = types.ModuleType("torch_levenberg_marquardt")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["torch_levenberg_marquardt"] = package
    from torch_levenberg_marquardt import training

    return training


def fit_torch_peer(model, x, y, xv, yv, epochs, dtype):
    """The same fit with torch-levenberg-marquardt 1.2.3 (defaults), same initial weights.

    Returns (val MSE, each step's seconds, the loss-against-time curve).
    """
    import torch

    torch.set_default_dtype(getattr(torch, dtype))
    layers = []
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    for i, layer in enumerate(dense):
        kernel, bias = layer.get_weights()
        linear = torch.nn.Linear(*kernel.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(kernel.T))
            linear.bias.copy_(torch.tensor(bias))
        layers.append(linear)
        if i < len(dense) - 1:
            layers.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*layers)
    module = import_torch_peer().LevenbergMarquardtModule(net)
    xt, yt = torch.tensor(x), torch.tensor(y)
    xvt, yvt = torch.tensor(xv), torch.tensor(yv)

    def validation():
        with torch.no_grad():
            return float(torch.mean((net(xvt) - yvt) ** 2))

    times, curve = [], new_curve()
    for _ in range(epochs):
        start = time.perf_counter()
        _, loss, _, _ = module.training_step(xt, yt)
        times.append(time.perf_counter() - start)
        curve["seconds"].append(sum(times))
        curve["loss"].append(float(loss))
        curve["val_loss"].append(validation())
    return validation(), times, curve


def median_after_first(times):
    return float(np.median(times[1:]))
