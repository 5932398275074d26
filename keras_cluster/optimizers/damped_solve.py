"""The damped normal equations of a Levenberg-Marquardt step, solved in float64."""

import tensorflow as tf
from keras import ops

DAMPINGS = ("identity", "marquardt")


def damped_solve(matrix, rhs, mus, pseudo_inverse_fallback=True):
    """Solves `(matrix + mu_k I) z_k = rhs` for every `mu_k` in float64.

    Cholesky for all candidates at once; when one factorisation is not finite (the damped
    matrix is not numerically positive definite) and `pseudo_inverse_fallback`, all
    candidates are solved from one symmetric eigendecomposition instead, dropping the null
    directions (a pseudo-inverse). Without the fallback such a solution is not finite, which
    the Levenberg-Marquardt ladder rejects, retrying with a larger `mu` (as `trainlm` does).

    Formula:
    ```
    z_k = (A + mu_k I)^-1 b                    Cholesky
    z_k = V diag(1 / (lambda + mu_k)) V^T b    A = V diag(lambda) V^T, |lambda + mu_k| > tol
    ```

    Args:
        matrix: Symmetric positive semi-definite float64 tensor of shape `(n, n)`.
        rhs: Float64 tensor of shape `(n,)`.
        mus: Float64 tensor of shape `(K,)`.
        pseudo_inverse_fallback: Bool, whether to fall back on the eigendecomposition
            (about 10x the cost of Cholesky). Defaults to `True`.

    Returns:
        Float64 tensor of shape `(K, n)`.

    Example:
    >>> import numpy as np
    >>> z = damped_solve(np.eye(2), np.ones(2), np.array([0.0, 1.0]))
    >>> np.round(np.asarray(z), 12).tolist()
    [[1.0, 1.0], [0.5, 0.5]]

    References:
        Golub, G. H., Van Loan, C. F. (2013). Matrix Computations, 4th ed., sections 4.2, 8.1.
    """
    matrix, rhs, mus = (tf.convert_to_tensor(t, "float64") for t in (matrix, rhs, mus))
    diagonal = tf.linalg.diag_part(matrix)
    damped = tf.linalg.set_diag(
        ops.broadcast_to(matrix[None], (ops.shape(mus)[0],) + tuple(ops.shape(matrix))),
        diagonal[None] + mus[:, None],
    )
    factors = tf.linalg.cholesky(damped)
    rhs_batch = ops.broadcast_to(rhs[None, :, None], (ops.shape(mus)[0], ops.shape(rhs)[0], 1))

    def by_cholesky():
        return tf.linalg.cholesky_solve(factors, rhs_batch)[..., 0]

    def by_eigh():
        values, vectors = tf.linalg.eigh(matrix)
        damped = values[None] + mus[:, None]
        tolerance = 1e-12 * ops.max(ops.abs(values))
        kept = ops.abs(damped) > tolerance  # an indefinite Hessian keeps its negative values
        inverse = ops.where(kept, 1.0 / ops.where(kept, damped, 1.0), 0.0)
        projected = tf.linalg.matvec(vectors, rhs, transpose_a=True)
        return ops.matmul(inverse * projected[None], ops.transpose(vectors))

    if not pseudo_inverse_fallback:
        return by_cholesky()
    return tf.cond(ops.all(ops.isfinite(factors)), by_cholesky, by_eigh)


def damping_scale(diagonal, damping):
    """The column scaling `s` that turns `D` into the identity: `D = diag(1 / s^2)`.

    Formula:
    ```
    "identity":  s = 1                       (D = I, Levenberg 1944)
    "marquardt": s = 1 / sqrt(diag(J^T J))   (D = diag(J^T J), Marquardt 1963; 1 where 0)
    ```
    Solving `(S A S + mu I) z = S b` and taking `delta = S z` solves `(A + mu D) delta = b`.

    Args:
        diagonal: Float64 tensor, the diagonal of `J^T J`.
        damping: One of `DAMPINGS`.

    Returns:
        Float64 tensor `s` of the shape of `diagonal`.
    """
    if damping == "identity":
        return ops.ones_like(diagonal)
    return ops.where(diagonal > 0, 1.0 / ops.sqrt(ops.where(diagonal > 0, diagonal, 1.0)), 1.0)


def low_rank_damped_solve(rows, rhs, mu, gram=None):
    """Solves `(A^T A + mu I) z = rhs` through the rows x rows system (Woodbury), `mu > 0`.

    For a curvature estimated on fewer rows than there are weights (`A` of shape `(m, n)`,
    `m < n`) and a right-hand side not in the row space of `A` (a gradient over more rows than
    the estimate's), so that the dual form `A^T (A A^T + mu I)^-1 r` does not apply. The
    `m x m` system is solved in float64 by `damped_solve` (Cholesky, no fallback: a
    non-finite solution is rejected by the Levenberg-Marquardt ladder).

    Formula:
    ```
    z = (rhs - A^T (A A^T + mu I)^-1 A rhs) / mu
    ```

    Args:
        rows: Float64 tensor `A` of shape `(m, n)`.
        rhs: Float64 tensor of shape `(n,)`.
        mu: Float64 scalar tensor, > 0.
        gram: None or float64 tensor `A A^T` of shape `(m, m)`, when already computed (a
            ladder of `mu` shares it). Defaults to `None`: computed here.

    Returns:
        Float64 tensor of shape `(n,)`.

    Example:
    >>> import numpy as np
    >>> z = low_rank_damped_solve(np.array([[1.0, 0.0]]), np.ones(2), 1.0)
    >>> np.round(np.asarray(z), 12).tolist()
    [0.5, 1.0]

    References:
        Hager, W. W. (1989). Updating the inverse of a matrix. SIAM Review 31(2).
    """
    rows, rhs, mu = (tf.convert_to_tensor(t, "float64") for t in (rows, rhs, mu))
    if gram is None:
        gram = ops.matmul(rows, ops.transpose(rows))
    inner = damped_solve(
        gram, tf.linalg.matvec(rows, rhs), ops.reshape(mu, (1,)), pseudo_inverse_fallback=False
    )[0]
    return (rhs - tf.linalg.matvec(rows, inner, transpose_a=True)) / mu
