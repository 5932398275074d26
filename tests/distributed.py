"""Run a test script under `tf.distribute` in fresh processes: two logical CPUs, or two workers.

Logical devices must be configured before TensorFlow initialises and a
`MultiWorkerMirroredStrategy` needs one process per worker, so both run in subprocesses. The
script prints one JSON line last; the helpers return it parsed, or fail the test with the
script's standard error. The subprocesses import this checkout's `keras_cluster` and `tests`.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

_LOGICAL_CPUS = """\
import tensorflow as tf
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * {n}
)
"""


def rss_mb():
    """This process's resident memory in MB (psutil, declared in the test extra: any platform)."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def child_env(**extra):
    """`os.environ` for a child Python process: this checkout's `keras_cluster` first on the path
    (a script in a temporary folder would otherwise import the installed one), CPU only, quiet TF.
    """
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return dict(
        os.environ, PYTHONPATH=path, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", **extra
    )


def _last_json_line(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def run_on_logical_cpus(script, *args, devices=2, timeout=600):
    """Runs `script` (Python source) in a process whose CPU is split into `devices` devices.

    The devices are `/cpu:0` ... `/cpu:{devices - 1}`, e.g. for
    `tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])`; `args` are the script's
    `sys.argv[1:]`.

    Returns:
        The JSON value of the last line the script prints.
    """
    source = _LOGICAL_CPUS.format(n=devices) + textwrap.dedent(script)
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-c", source, *map(str, args)],
            capture_output=True,
            text=True,
            env=child_env(),
            cwd=folder,
            timeout=timeout,
        )
    assert result.returncode == 0, result.stderr[-4000:]
    return _last_json_line(result.stdout)


def free_ports(count):
    """`count` TCP ports on localhost that are free now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run_workers(script, *args, workers=2, timeout=600):
    """Runs `script` as `workers` processes of one `MultiWorkerMirroredStrategy` on localhost.

    Each process gets a `TF_CONFIG` naming all the workers (free ports) and its own index, and
    runs in a folder of its own (its working directory). When one fails, the others (which
    would wait on it in their collective ops) are stopped.

    Returns:
        A list with the JSON value of each worker's last printed line, worker 0 first.
    """
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(workers)]}
    source = textwrap.dedent(script)
    with tempfile.TemporaryDirectory() as folder:
        processes, folders = [], []
        for index in range(workers):
            config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            cwd = pathlib.Path(folder, f"worker_{index}")
            cwd.mkdir()
            folders.append(cwd)
            # Files, not pipes: a worker blocked on a full pipe would block the others too.
            with open(cwd / "stdout", "w") as stdout, open(cwd / "stderr", "w") as stderr:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-c", source, *map(str, args)],
                        stdout=stdout,
                        stderr=stderr,
                        env=child_env(TF_CONFIG=json.dumps(config)),
                        cwd=cwd,
                    )
                )
        try:
            _wait_all(processes, timeout)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                process.wait()
        failures = [
            f"worker {index} (exit code {process.returncode}):\n"
            + (cwd / "stderr").read_text()[-3000:]
            for index, (process, cwd) in enumerate(zip(processes, folders, strict=True))
            if process.returncode != 0
        ]
        assert not failures, "\n".join(failures)
        results = [_last_json_line((cwd / "stdout").read_text()) for cwd in folders]
    return results


def _wait_all(processes, timeout):
    """Waits until every process exits, or one fails, or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = [process.poll() for process in processes]
        if all(code is not None for code in codes) or any(code for code in codes):
            return
        time.sleep(0.2)
    raise TimeoutError(f"The {len(processes)} workers did not finish within {timeout} s.")
