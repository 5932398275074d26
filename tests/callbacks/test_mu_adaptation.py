import json
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cluster.callbacks import MuAdaptation
from keras_cluster.optimizers import LevenbergMarquardt
from tests.distributed import child_env


def data(n=32):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n, 2)).astype("float32")
    return x, np.sin(2 * x[:, :1]) + x[:, 1:] ** 2


def model():
    net = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(6, "tanh"), keras.layers.Dense(1)]
    )
    net.compile(optimizer=LevenbergMarquardt(), loss="mse")
    return net


def test_wrong_optimizer_raises():
    x, y = data()
    net = model()
    net.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="LevenbergMarquardt"):
        net.fit(x, y, epochs=1, callbacks=[MuAdaptation()], verbose=0)


def test_invalid_verbose_raises():
    with pytest.raises(ValueError, match="verbose"):
        MuAdaptation(verbose=2)


def test_one_instance_serves_several_fits_and_restores_train_step():
    x, y = data()
    net = model()
    callback = MuAdaptation(verbose=0)
    first = net.fit(x, y, batch_size=32, epochs=2, callbacks=[callback], verbose=0)
    assert "train_step" not in net.__dict__
    second = net.fit(x, y, batch_size=32, epochs=2, callbacks=[callback], verbose=0)
    assert second.history["loss"][-1] < first.history["loss"][0]
    assert callback.stopped_epoch is None
    assert MuAdaptation.from_config(callback.get_config()).verbose == 0


def test_early_stopping_and_checkpoint(tmp_path):
    x, y = data()
    net = model()
    path = tmp_path / "best.keras"
    history = net.fit(
        x,
        y,
        batch_size=32,
        epochs=30,
        validation_data=(x, y),
        callbacks=[
            MuAdaptation(verbose=0),
            keras.callbacks.EarlyStopping(monitor="loss", min_delta=1e-2, patience=1),
            keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True),
        ],
        verbose=0,
    )
    assert len(history.history["loss"]) < 30  # EarlyStopping stopped the LM run
    assert set(history.history) >= {"loss", "mu", "val_loss"}
    loaded = keras.models.load_model(path)
    best = int(np.argmin(history.history["val_loss"]))
    np.testing.assert_allclose(float(loaded.optimizer.mu), history.history["mu"][best], rtol=1e-6)


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.mu = float(self.model.optimizer.mu)
            raise RuntimeError("interrupted")


class RecordMu(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.mu = float(self.model.optimizer.mu)


def test_backup_and_restore_resumes_weights_and_mu(tmp_path):
    x, y = data()
    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup")
    interrupt = Interrupt(2)
    net = model()
    with pytest.raises(RuntimeError, match="interrupted"):
        net.fit(x, y, batch_size=32, epochs=6, callbacks=[backup, MuAdaptation(0), interrupt])
    weights = net.get_weights()
    resumed, record = model(), RecordMu()
    history = resumed.fit(
        x, y, batch_size=32, epochs=6, callbacks=[backup, record, MuAdaptation(0)], verbose=0
    )
    assert record.mu == pytest.approx(interrupt.mu, rel=1e-12)
    assert len(history.history["loss"]) == 3  # epochs 3..5 of 6
    assert history.history["loss"][0] <= float(net.evaluate(x, y, verbose=0)) + 1e-6
    assert not all(
        np.array_equal(a, b) for a, b in zip(weights, resumed.get_weights(), strict=True)
    )


def test_tensorboard_logs_mu(tmp_path):
    import tensorflow as tf

    net, (x, y) = model(), data()
    log_dir = tmp_path / "logs"
    net.fit(
        x,
        y,
        batch_size=len(x),
        epochs=3,
        verbose=0,
        callbacks=[MuAdaptation(verbose=0), keras.callbacks.TensorBoard(str(log_dir))],
    )
    mu_values = []
    for events in (log_dir / "train").glob("events*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                if value.tag == "epoch_mu":
                    mu_values.append(float(tf.make_ndarray(value.tensor)))
    assert len(mu_values) == 3
    np.testing.assert_allclose(mu_values[-1], float(net.optimizer.mu.numpy()), rtol=1e-6)


class CountingLM(LevenbergMarquardt):
    """Counts how often the LM step is traced (its Python body runs once per trace)."""

    traces = 0

    def train_step(self, model, data, **kwargs):
        CountingLM.traces += 1
        return super().train_step(model, data, **kwargs)


def test_later_fits_reuse_the_compiled_step_until_recompiled():
    x, y = data()
    net = model()
    CountingLM.traces = 0
    net.compile(optimizer=CountingLM(), loss="mse")
    for _ in range(3):
        net.fit(x, y, batch_size=32, epochs=2, callbacks=[MuAdaptation(verbose=0)], verbose=0)
    assert CountingLM.traces == 1
    net.compile(optimizer=net.optimizer, loss="mse")  # a recompilation: the step is rebuilt
    net.fit(x, y, batch_size=32, epochs=1, callbacks=[MuAdaptation(verbose=0)], verbose=0)
    assert CountingLM.traces == 2
    net.compile(optimizer=CountingLM(), loss="mse")  # a new optimizer: rebuilt
    net.fit(x, y, batch_size=32, epochs=1, callbacks=[MuAdaptation(verbose=0)], verbose=0)
    assert CountingLM.traces == 3


def classification_data(n=64):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 2)).astype("float32")
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")


def classifier(optimizer):
    net = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(4, "tanh"), keras.layers.Dense(2)]
    )
    net.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return net


def test_cross_entropy_floor_applies_on_mini_batches_only():
    x, y = classification_data()
    # Mini-batches (4 steps an epoch): mu starts at the floor 0.1 and never goes below it.
    net = classifier(LevenbergMarquardt())
    history = net.fit(x, y, batch_size=16, epochs=3, callbacks=[MuAdaptation(0)], verbose=0)
    assert min(history.history["mu"]) >= 0.1
    # Full batch (1 step an epoch): every step is judged on the training loss, no floor above
    # the squared error's 1e-10; mu starts at 1e-3 and falls by 10 at each accepted step.
    net = classifier(LevenbergMarquardt())
    history = net.fit(x, y, batch_size=64, epochs=3, callbacks=[MuAdaptation(0)], verbose=0)
    assert history.history["mu"][-1] < 1e-3
    assert history.history["loss"][-1] < history.history["loss"][0]
    # An explicit mu_min holds for both.
    net = classifier(LevenbergMarquardt(mu_min=0.5))
    history = net.fit(x, y, batch_size=64, epochs=2, callbacks=[MuAdaptation(0)], verbose=0)
    assert min(history.history["mu"]) >= 0.5


def test_switching_between_full_batch_and_mini_batches_rebuilds_the_step():
    x, y = classification_data()
    CountingLM.traces = 0
    net = classifier(CountingLM())
    for batch_size, traces in ((64, 1), (64, 1), (16, 2), (16, 2), (64, 3)):
        net.fit(x, y, batch_size=batch_size, epochs=1, callbacks=[MuAdaptation(0)], verbose=0)
        assert CountingLM.traces == traces, batch_size


def failing_batches(x, y, failing_batch):
    def generate():
        for index in range(4):
            if index == failing_batch:
                raise RuntimeError("broken batch")
            yield x[index * 8 : (index + 1) * 8], y[index * 8 : (index + 1) * 8]

    spec = (tf.TensorSpec((None, 2), "float32"), tf.TensorSpec((None, 1), "float32"))
    return tf.data.Dataset.from_generator(generate, output_signature=spec)


def test_model_train_function_restored_when_a_step_raises():
    x, y = data()
    net = model()
    with pytest.raises(Exception, match="broken batch"):
        net.fit(failing_batches(x, y, 2), callbacks=[MuAdaptation(verbose=0)], verbose=0)
    before = net.get_weights()
    # The model's own train step is back: without the callback, the optimizer refuses.
    with pytest.raises(ValueError, match="MuAdaptation"):
        net.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for a, b in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # ... and with it, LM trains again from the compiled step.
    history = net.fit(x, y, batch_size=32, epochs=3, callbacks=[MuAdaptation(0)], verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


RESUME_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import keras, numpy as np
    from keras_cluster.callbacks import MuAdaptation
    from keras_cluster.optimizers import LevenbergMarquardt


    class KillAt(keras.callbacks.Callback):
        # SIGKILL in the middle of an epoch, after its first step: no cleanup runs.
        def __init__(self, epoch):
            super().__init__()
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self._epoch == self.epoch and batch == 1:
                os.kill(os.getpid(), signal.SIGKILL)

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch


    def train(backup_dir, kill_at=None):
        keras.utils.set_random_seed(0)
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, (64, 2)).astype("float32")
        y = np.sin(2 * x[:, :1]) + x[:, 1:] ** 2
        net = keras.Sequential(
            [keras.Input((2,)), keras.layers.Dense(6, "tanh"), keras.layers.Dense(1)]
        )
        net.compile(optimizer=LevenbergMarquardt(mu_rule="nielsen"), loss="mse")
        callbacks = [MuAdaptation(verbose=0)]
        if backup_dir is not None:
            callbacks.insert(0, keras.callbacks.BackupAndRestore(backup_dir))
        if kill_at is not None:
            callbacks.append(KillAt(kill_at))
        # 4 steps an epoch, in a fixed order (a resumed epoch sees the same batches).
        net.fit(x, y, batch_size=16, epochs=5, shuffle=False, callbacks=callbacks, verbose=0)
        mu, nu = (keras.ops.convert_to_numpy(v) for v in (net.optimizer.mu, net.optimizer._nu))
        return net.get_weights(), float(mu), float(nu)


    if __name__ == "__main__":
        train(sys.argv[1], kill_at=int(os.environ["KILL_AT_EPOCH"]))
    """
)


def test_fit_killed_by_sigkill_resumes_to_the_uninterrupted_weights_and_mu(tmp_path):
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    backup = tmp_path / "backup"
    env = child_env(KILL_AT_EPOCH="3")
    killed = subprocess.run(
        [sys.executable, str(script), str(backup)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert (backup / "latest.weights.h5").exists()  # epochs 0..2 backed up, 3 lost mid-way

    namespace = {"__name__": "resume"}
    exec(RESUME_SCRIPT, namespace)  # the same function, run to the end in this process
    resumed = namespace["train"](str(backup))  # restarted with the same arguments
    uninterrupted = namespace["train"](None)
    for a, b in zip(resumed[0], uninterrupted[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert resumed[1:] == pytest.approx(uninterrupted[1:], rel=1e-9)  # mu and nu


MEMORY_SCRIPT = textwrap.dedent(
    """
    import gc, json, sys
    import keras, numpy as np
    from keras_cluster.callbacks import MuAdaptation
    from keras_cluster.optimizers import LevenbergMarquardt
    from tests.distributed import rss_mb


    adam = sys.argv[1] == "fresh-adam"  # the same sweep with Keras's Adam, for comparison


    def new_model():
        net = keras.Sequential(
            [keras.Input((2,)), keras.layers.Dense(6, "tanh"), keras.layers.Dense(1)]
        )
        net.compile(optimizer=keras.optimizers.Adam() if adam else LevenbergMarquardt(), loss="mse")
        return net


    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 2)).astype("float32")
    y = np.sin(2 * x[:, :1]) + x[:, 1:] ** 2
    net, rss = new_model(), {}
    for fit in range(1, 21):
        if sys.argv[1].startswith("fresh"):  # a sweep: a new model and optimizer every fit
            net = new_model()
        callbacks = [] if adam else [MuAdaptation(verbose=0)]
        net.fit(x, y, batch_size=32, epochs=2, callbacks=callbacks, verbose=0)
        if fit in (5, 20):
            gc.collect()  # what is still held, not garbage that a later collection frees
            rss[fit] = rss_mb()
    print(json.dumps(rss))
    """
)


def rss_growth_over_20_fits(tmp_path, mode):
    script = tmp_path / "memory.py"
    script.write_text(MEMORY_SCRIPT)
    env = child_env()
    result = subprocess.run(
        [sys.executable, str(script), mode], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rss = json.loads(result.stdout.strip().splitlines()[-1])
    return rss["20"] / rss["5"] - 1.0


def test_twenty_fits_of_one_model_do_not_grow_memory(tmp_path):
    assert rss_growth_over_20_fits(tmp_path, "same") <= 0.15


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="known gap, measured 2026-11-23: with a new model every fit and no gc.collect() "
    "between fits, RSS grows 16.7% from fit 5 to 20 with LM against 8.1% with Adam; with a "
    "collection after every fit both grow 8%: LM's larger traced graphs wait for Python's cyclic "
    "garbage collector. strict: this test fails the suite once the gap is closed.",
)
def test_twenty_fits_of_new_models_grow_memory_no_more_than_adam(tmp_path):
    """A sweep building a new model every fit grows about 4 MB a fit in Keras itself (the same
    with Adam: one traced train-step graph per model stays cached upstream, see
    `keras_cluster/models/prebuilt_optimizer.py`); LM must add nothing to that."""
    lm = rss_growth_over_20_fits(tmp_path, "fresh")
    adam = rss_growth_over_20_fits(tmp_path, "fresh-adam")
    assert lm <= adam + 0.03, f"RSS growth from fit 5 to 20: LM {lm:.1%}, Adam {adam:.1%}"
