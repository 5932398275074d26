"""Newton's method on the training loss, with the exact Hessian (tiny models only)."""

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.optimizers.levenberg_marquardt import LevenbergMarquardt


@keras_cluster_export("keras_cluster.optimizers.Newton", keras_serializable=True)
class Newton(LevenbergMarquardt):
    """Newton's method: `LevenbergMarquardt` with the exact Hessian in place of `J^T J`.

    The Hessian of the loss costs O(weights^2) memory and one backward pass per weight, so this
    is for tiny models (the comparison in `notebooks/levenberg_marquardt.ipynb`). By default
    the step is undamped and always taken (`mu=0`, `mu_rule="fixed"`): near a saddle or where
    the Hessian is indefinite it can move uphill, which is what Levenberg-Marquardt's
    positive semi-definite `J^T J` avoids. Pass `mu_rule="tutorial"` and `mu > 0` for a
    damped Newton method with the same accept/reject ladder. Train with
    `keras_cluster.callbacks.MuAdaptation()` in `fit`.

    Formula:
    ```
    H = 1/2 d^2 loss / dw^2,   g = 1/2 d loss / dw
    (H + mu I) delta = g,      w <- w - learning_rate * delta
    ```

    Args:
        **kwargs: `LevenbergMarquardt` arguments; `curvature` is `"hessian"`, `mu` defaults
            to 0 and `mu_rule` to `"fixed"`.

    Returns:
        An optimizer for `model.compile(optimizer=...)`.

    Example:
    >>> optimizer = Newton()
    >>> optimizer.curvature
    'hessian'

    References:
        Nocedal, J., Wright, S. J. (2006). Numerical Optimization, 2nd ed., chapter 3.
    """

    def __init__(self, name="newton", **kwargs):
        kwargs.setdefault("mu", 0.0)
        kwargs.setdefault("mu_rule", "fixed")
        curvature = kwargs.setdefault("curvature", "hessian")
        if curvature != "hessian":
            raise ValueError(
                f"`curvature` of Newton should be 'hessian'. Received: curvature={curvature!r}"
            )
        super().__init__(name=name, **kwargs)
