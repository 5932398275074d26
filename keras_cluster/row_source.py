"""Training rows held in memory or streamed, read batch by batch: memory bounded by the batch.

The deep clustering estimators and `DECSelfTraining` read their rows through a `RowSource`:

- an array (a NumPy array or a `np.memmap`): rows are gathered batch by batch from the array
  itself (`tf.numpy_function`), never copied into the graph as a constant; each pass over the
  data is a fresh permutation drawn by `tf.random.experimental.index_shuffle`, a function of the
  seed and the pass number, so batch `b` of the training stream can be rebuilt from `b` alone;
- a `tf.data.Dataset` yielding batches of rows (a batch or a tuple whose first item is the
  batch), or a `keras.utils.PyDataset` whose items are such batches: the rows are read in the
  order the data gives them, which must be the same on every pass (no shuffle buffer: row `i`
  of a pass is row `i` of P). One counting pass gives the number of rows and the streaming
  normalization moments.

Training batches are numbered from the start of training: the dataset of `training_batches`
reads the number of its first batch from a variable when each batch is drawn, so a fit resumed
after a kill (`keras.callbacks.BackupAndRestore`) draws the batches the interrupted fit would
have drawn next.
"""

import keras
import numpy as np
import tensorflow as tf


class RowSource:
    """Rows `(n_rows, n_features)` of an array or a stream of batches.

    Args:
        data: 2-D array, `tf.data.Dataset` of batches or `keras.utils.PyDataset` of batches.

    Attributes:
        n_rows, n_features: the shape of the rows.
        streamed: True for a `tf.data.Dataset` or `keras.utils.PyDataset`.
    """

    def __init__(self, data):
        self.streamed = is_stream(data)
        self._moments = None
        if not self.streamed:
            array = data if isinstance(data, np.ndarray) else np.asarray(data)
            if array.ndim != 2:
                raise ValueError(f"`x` should be 2-D. Received: x with shape {array.shape}")
            self.array = array
            self.n_rows, self.n_features = array.shape
            return
        self._stream = _as_dataset(data)
        self._scan()

    def _scan(self):
        """One pass over a stream: rows, features, batch count and the moments (Chan et al.)."""
        n, mean, m2, n_batches, n_features = 0, None, None, 0, None
        for batch in self._stream.as_numpy_iterator():
            batch = np.asarray(batch, dtype=np.float64)
            if batch.ndim != 2 or (n_features is not None and batch.shape[1] != n_features):
                raise ValueError(
                    "`x` as a dataset should yield 2-D batches of rows with a fixed number of "
                    f"features. Received: a batch of shape {batch.shape}"
                )
            if not np.all(np.isfinite(batch)):
                raise ValueError("`x` as a dataset should yield finite values. Received: NaN/inf")
            n_features = batch.shape[1]
            m = batch.shape[0]
            batch_mean = batch.mean(axis=0)
            batch_m2 = ((batch - batch_mean) ** 2).sum(axis=0)
            if mean is None:
                mean, m2 = batch_mean, batch_m2
            else:
                delta = batch_mean - mean
                mean = mean + delta * m / (n + m)
                m2 = m2 + batch_m2 + delta**2 * n * m / (n + m)
            n += m
            n_batches += 1
        if n == 0:
            raise ValueError("`x` as a dataset should yield at least one row. Received: none")
        self.n_rows, self.n_features, self.n_batches = n, n_features, n_batches
        # A generator's dataset has an unknown length: state the one just counted, so that
        # `predict` over one pass knows where it ends (no "ran out of data" warning).
        self._stream = self._stream.apply(tf.data.experimental.assert_cardinality(n_batches))
        self._moments = (mean, m2 / n)

    def moments(self):
        """Per-feature `(mean, variance)` in float64 (one pass over a stream, already done)."""
        if self._moments is None:
            x = self.array
            mean = np.zeros(self.n_features)
            m2 = np.zeros(self.n_features)
            chunk = 65536
            for start in range(0, self.n_rows, chunk):
                rows = np.asarray(x[start : start + chunk], dtype=np.float64)
                m, n = rows.shape[0], start
                batch_mean = rows.mean(axis=0)
                delta = batch_mean - mean
                mean = mean + delta * m / (n + m)
                m2 = m2 + ((rows - batch_mean) ** 2).sum(axis=0) + delta**2 * n * m / (n + m)
            self._moments = (mean, m2 / self.n_rows)
        return self._moments

    def _gather(self, index):
        """Rows `index` of the array, read from the array at draw time (no graph constant)."""
        array = self.array

        def take(positions):
            return np.asarray(array[positions], dtype="float32")

        rows = tf.numpy_function(take, [index], tf.float32, stateful=False)
        rows.set_shape((None, self.n_features))
        return rows

    def batches(self, batch_size):
        """One pass over the rows in their order: a `tf.data.Dataset` of row batches."""
        if self.streamed:
            return self._stream
        n = self.n_rows
        starts = tf.data.Dataset.range(0, n, batch_size)
        return starts.map(
            lambda start: self._gather(tf.range(start, tf.minimum(start + batch_size, n)))
        )

    def training_batches(self, batch_size, start, seed=None, shuffle=True):
        """An endless `tf.data.Dataset` of `(rows, row_positions)` numbered from `start`.

        Batch `b` of training (`b = start + i` for the `i`-th batch drawn, `start` a scalar
        integer variable read when the first batches are drawn) holds, for an array, the
        positions `b * batch_size ... (b + 1) * batch_size - 1` of the endless stream that
        concatenates one permutation of the rows per pass (`shuffle`, drawn from `seed` and the
        pass number; without `shuffle` the rows in order); for a stream, its batch
        `b mod n_batches` in the stream's own order.
        """
        if self.streamed:
            return self._stream_training_batches(start)
        n = self.n_rows
        seed = tf.constant(0 if seed is None else int(seed), tf.int64)
        n = tf.constant(n, tf.int64)

        def batch(i):
            first = (tf.cast(start, tf.int64) + i) * batch_size
            stream_positions = tf.range(first, first + batch_size)
            passes = stream_positions // n
            within = stream_positions % n
            if shuffle:
                seeds = tf.stack([tf.fill(tf.shape(passes), seed), passes, 0 * passes], 1)
                # The raw op: `tf.random.experimental.index_shuffle` pads a batch of seeds
                # `(m, 3)` as if it were one seed and fails ("Index bust be a scalar or vector").
                within = tf.raw_ops.RandomIndexShuffle(
                    index=within, seed=seeds, max_index=tf.fill(tf.shape(within), n - 1)
                )
            return self._gather(within), within

        return _ordered(tf.data.Dataset.range(np.iinfo(np.int64).max).map(batch))

    def _stream_training_batches(self, start):
        n_batches = self.n_batches

        def with_positions(offset, rows):
            m = tf.shape(rows, out_type=tf.int64)[0]
            positions = offset + tf.range(m)
            return (offset + m) % self.n_rows, (rows, positions)

        stream = self._stream.repeat().scan(tf.constant(0, tf.int64), with_positions)
        stream = stream.enumerate()
        first = tf.data.Dataset.range(1).map(lambda _: tf.cast(start, tf.int64) % n_batches)

        def skip_to_start(skip):
            return stream.filter(lambda j, _: j >= skip).map(lambda j, item: item)

        return _ordered(first.flat_map(skip_to_start))


def is_stream(data):
    """Whether `data` is a `tf.data.Dataset` or a `keras.utils.PyDataset`."""
    return isinstance(data, (tf.data.Dataset, keras.utils.PyDataset))


def _as_dataset(data):
    if isinstance(data, keras.utils.PyDataset):
        first = _rows(data[0])
        spec = tf.TensorSpec((None, np.shape(first)[1] if np.ndim(first) == 2 else None))

        def generate():
            for i in range(data.num_batches):
                yield np.asarray(_rows(data[i]), dtype="float32")

        return tf.data.Dataset.from_generator(generate, output_signature=spec)
    return data.map(lambda *item: tf.cast(item[0], tf.float32))


def _rows(item):
    return item[0] if isinstance(item, (tuple, list)) else item


def _ordered(dataset):
    """No injected prefetch, deterministic order: a batch reads the variables as drawn."""
    options = tf.data.Options()
    options.experimental_optimization.inject_prefetch = False
    options.experimental_deterministic = True
    return dataset.with_options(options)
