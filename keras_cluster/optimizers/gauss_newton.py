"""Gauss-Newton: the Levenberg-Marquardt step with no damping."""

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.optimizers.levenberg_marquardt import LevenbergMarquardt


@keras_cluster_export("keras_cluster.optimizers.GaussNewton", keras_serializable=True)
class GaussNewton(LevenbergMarquardt):
    """Gauss-Newton optimizer: `LevenbergMarquardt` with `mu` fixed at 0 and every step taken.

    Each step solves the undamped normal equations (a pseudo-inverse when `J^T J` is
    singular) and is taken whenever its loss is finite, even if the loss rises: the classic
    method that Levenberg-Marquardt stabilises. Train with
    `keras_cluster.callbacks.MuAdaptation()` in `fit`, as for `LevenbergMarquardt`.

    Formula:
    ```
    (J^T J) delta = J^T r,    w <- w - learning_rate * delta
    ```

    Args:
        **kwargs: `LevenbergMarquardt` arguments; `mu` defaults to 0 and `mu_rule` to
            `"fixed"`.

    Returns:
        An optimizer for `model.compile(optimizer=...)`.

    Example:
    >>> optimizer = GaussNewton()
    >>> optimizer.mu_init, optimizer.mu_rule
    (0.0, 'fixed')

    References:
        Gauss, C. F. (1809). Theoria motus corporum coelestium.
        Nocedal, J., Wright, S. J. (2006). Numerical Optimization, 2nd ed., section 10.3.
    """

    def __init__(self, name="gauss_newton", **kwargs):
        kwargs.setdefault("mu", 0.0)
        kwargs.setdefault("mu_rule", "fixed")
        super().__init__(name=name, **kwargs)
