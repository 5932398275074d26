"""The examples of a batch on which a subsampled Gauss-Newton step estimates its curvature."""

import tensorflow as tf
from keras import ops

_MASK = 0xFFFFFFFF
_GOLDEN = 0x9E3779B1  # odd: i -> i * _GOLDEN mod 2^32 is a bijection


def curvature_sample(rows, size, seed, step):
    """Indices of `min(size, rows)` distinct examples of a batch of `rows`, drawn at random.

    A counter-based draw: every example gets the key `h(seed, step, i)` and the sample is the
    examples with the smallest keys, so the same `(seed, step)` gives the same indices on any
    device, with or without XLA, and after a `.keras` round trip (`step` is the optimizer's
    `iterations`); every step draws anew. `h` is MurmurHash3's 32-bit finaliser `fmix32` (a
    bijection), computed in int64 with the products reduced to 32 bits, so that the keys of a
    batch are distinct and no tie is broken by the sort. (`tf.random.stateless_uniform` is
    not used: under XLA its Philox stream for a run-time seed differs from the kernel's.)

    Formula:
    ```
    c      = fmix32((seed + fmix32(step)) mod 2^32)
    key_i  = fmix32((i * 0x9E3779B1 + c) mod 2^32),   i = 0 .. rows - 1
    sample = the indices of the min(size, rows) smallest keys
    fmix32(h): h ^= h >> 16; h *= 0x85EBCA6B; h ^= h >> 13; h *= 0xC2B2AE35; h ^= h >> 16
    ```

    Args:
        rows: Int scalar (tensor), the batch size.
        size: Int >= 1, the sample size.
        seed: Int >= 0, the optimizer's seed.
        step: Int scalar (tensor), the step number.

    Returns:
        Int32 tensor of shape `(min(size, rows),)`, distinct indices in `[0, rows)`.

    Example:
    >>> import numpy as np
    >>> index = np.asarray(curvature_sample(10, 4, seed=0, step=3))
    >>> len(index), len(set(index.tolist())), bool(np.all((index >= 0) & (index < 10)))
    (4, 4, True)

    References:
        Appleby, A. (2011). MurmurHash3. https://github.com/aappleby/smhasher
        Salmon, J. K. et al. (2011). Parallel random numbers: as easy as 1, 2, 3. SC '11.
    """
    offset = fmix32((ops.cast(seed, "int64") + fmix32(ops.cast(step, "int64"))) & _MASK)
    index = ops.arange(ops.cast(rows, "int64"), dtype="int64")
    keys = fmix32((index * _GOLDEN + offset) & _MASK)
    return ops.cast(tf.argsort(keys)[: ops.minimum(rows, size)], "int32")


def fmix32(h):
    """MurmurHash3's 32-bit finaliser on int64 values in `[0, 2^32)` (a bijection there).

    A product of two 32-bit values may pass 2^63 and wrap in int64; its low 32 bits, which
    are all that is kept, are those of the exact product.
    """
    h = h ^ tf.bitwise.right_shift(h, 16)
    h = (h * 0x85EBCA6B) & _MASK
    h = h ^ tf.bitwise.right_shift(h, 13)
    h = (h * 0xC2B2AE35) & _MASK
    return h ^ tf.bitwise.right_shift(h, 16)
