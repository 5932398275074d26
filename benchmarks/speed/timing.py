"""Side-by-side timing shared by the loss benchmarks."""

import statistics
import time

import tensorflow as tf


def interleaved(functions, args, repeats):
    """Time `functions` on `args` alternately, so each sees the same load on a shared CPU.

    The first call of each (tracing, compilation) is not timed; its output is returned. A call is
    timed until its last output is on the host. Returns `(median, min, first_output)` per function.
    """
    outputs = [fn(*args) for fn in functions]
    times = [[] for _ in functions]
    for _ in range(repeats):
        for fn, record in zip(functions, times, strict=True):
            start = time.perf_counter()
            tf.nest.flatten(fn(*args))[-1].numpy()
            record.append(time.perf_counter() - start)
    return [
        (statistics.median(record), min(record), output)
        for record, output in zip(times, outputs, strict=True)
    ]
