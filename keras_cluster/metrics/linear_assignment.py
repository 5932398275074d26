"""Exact linear assignment (the Hungarian problem) written in `keras.ops`, so it runs in-graph.

Used by the clustering-accuracy metric: its `result()` runs inside the compiled train/test step
(under XLA too), where a host call such as `scipy.optimize.linear_sum_assignment` cannot go.
"""

from keras import ops


def linear_sum_assignment(cost, maximize=False):
    """Exact minimum (or maximum) cost assignment of rows to columns, in-graph.

    Formula:

    ```
    min over injective maps sigma: rows -> cols (or cols -> rows if there are fewer columns)
        sum_i cost[i, sigma(i)]
    ```

    The shortest augmenting path algorithm of Jonker & Volgenant in the form of Crouse (2016),
    the one behind `scipy.optimize.linear_sum_assignment`: one Dijkstra search per row over
    reduced costs `cost[i, j] - u[i] - v[j]`, then the dual potentials `u`, `v` are updated and
    the path augmented. O(k^3) for a k x k matrix, with `keras.ops.while_loop` for the loops,
    so it is traceable by `tf.function` and compiles with XLA. Computed in float64; with
    integer costs (contingency counts) the optimum is exact.

    Args:
        cost: matrix of shape `(n_rows, n_cols)` with static shape and finite entries.
        maximize: if True, find the maximum-weight assignment instead.

    Returns:
        `(row_ind, col_ind)`, int32 vectors of length `min(n_rows, n_cols)`, `row_ind` sorted,
        as `scipy.optimize.linear_sum_assignment` returns them.

    Example:

    >>> import numpy as np
    >>> rows, cols = linear_sum_assignment(np.array([[4.0, 1.0], [2.0, 0.0]]))
    >>> [int(c) for c in cols]
    [1, 0]

    References:
        Crouse, "On implementing 2D rectangular assignment algorithms", IEEE TAES 2016.
        Jonker & Volgenant, "A shortest augmenting path algorithm for dense and sparse linear
        assignment problems", Computing 1987.
    """
    cost = ops.convert_to_tensor(cost, dtype="float64")
    if len(cost.shape) != 2 or cost.shape[0] is None or cost.shape[1] is None:
        raise ValueError(
            f"`cost` should be a matrix with a static shape. Received: shape {tuple(cost.shape)}"
        )
    if maximize:
        cost = -cost
    transposed = cost.shape[0] > cost.shape[1]
    if transposed:
        cost = ops.transpose(cost)
    col4row = _solve_rows_le_cols(cost)
    n = cost.shape[0]
    rows = ops.arange(n, dtype="int32")
    if not transposed:
        return rows, col4row
    order = ops.argsort(col4row)
    return ops.cast(ops.take(col4row, order), "int32"), ops.cast(order, "int32")


def _solve_rows_le_cols(cost):
    """Column assigned to each row, for `cost` of shape `(nr, nc)` with `nr <= nc`."""
    nr, nc = cost.shape
    inf = ops.convert_to_tensor(float("inf"), dtype="float64")
    row_ids = ops.arange(nr, dtype="int32")
    col_ids = ops.arange(nc, dtype="int32")
    minus_one = ops.convert_to_tensor(-1, dtype="int32")

    def assign_row(cur_row, state):
        u, v, col4row, row4col = state

        def searching(i, min_val, sink, in_sr, in_sc, spc, path):
            return sink < 0

        def dijkstra_step(i, min_val, sink, in_sr, in_sc, spc, path):
            in_sr = ops.logical_or(in_sr, ops.equal(row_ids, i))
            reduced = min_val + ops.take(cost, i, axis=0) - ops.take(u, i) - v
            better = ops.logical_and(ops.logical_not(in_sc), ops.less(reduced, spc))
            path = ops.where(better, i, path)
            spc = ops.where(better, reduced, spc)
            key = ops.where(in_sc, inf, spc)
            j = ops.cast(ops.argmin(key), "int32")
            min_val = ops.take(key, j)
            owner = ops.take(row4col, j)
            free = ops.less(owner, 0)
            sink = ops.where(free, j, minus_one)
            i = ops.where(free, i, owner)
            in_sc = ops.logical_or(in_sc, ops.equal(col_ids, j))
            return i, min_val, sink, in_sr, in_sc, spc, path

        _, min_val, sink, in_sr, in_sc, spc, path = ops.while_loop(
            searching,
            dijkstra_step,
            (
                ops.cast(cur_row, "int32"),
                ops.convert_to_tensor(0.0, dtype="float64"),
                minus_one,
                ops.zeros((nr,), dtype="bool"),
                ops.zeros((nc,), dtype="bool"),
                ops.full((nc,), inf, dtype="float64"),
                ops.full((nc,), -1, dtype="int32"),
            ),
        )

        is_cur = ops.equal(row_ids, cur_row)
        spc_of_row = ops.take(spc, ops.maximum(col4row, 0))
        u = u + ops.where(is_cur, min_val, 0.0)
        u = u + ops.where(
            ops.logical_and(in_sr, ops.logical_not(is_cur)), min_val - spc_of_row, 0.0
        )
        v = v - ops.where(in_sc, min_val - spc, 0.0)

        def augmenting(j, col4row, row4col, done):
            return ops.logical_not(done)

        def augment_step(j, col4row, row4col, done):
            i = ops.take(path, j)
            row4col = ops.where(ops.equal(col_ids, j), i, row4col)
            previous = ops.take(col4row, i)
            col4row = ops.where(ops.equal(row_ids, i), j, col4row)
            return previous, col4row, row4col, ops.equal(i, cur_row)

        _, col4row, row4col, _ = ops.while_loop(
            augmenting,
            augment_step,
            (sink, col4row, row4col, ops.convert_to_tensor(False)),
        )
        return u, v, col4row, row4col

    state = (
        ops.zeros((nr,), dtype="float64"),
        ops.zeros((nc,), dtype="float64"),
        ops.full((nr,), -1, dtype="int32"),
        ops.full((nc,), -1, dtype="int32"),
    )
    _, _, col4row, _ = ops.fori_loop(0, nr, assign_row, state)
    return col4row
