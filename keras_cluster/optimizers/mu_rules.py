"""The rules that adapt the Levenberg-Marquardt damping `mu` and accept or reject a trial."""

from keras import ops

MU_RULES = ("tutorial", "nielsen", "fixed")

LEAST_SQUARES_MU_MIN = 1e-10
"""The default lower bound of `mu` for a squared error: MATLAB `trainlm`'s `mu_min`."""

CROSS_ENTROPY_MU_MIN = 0.1
"""The default lower bound of `mu` for a cross-entropy (a mean over the batch) on mini-batches.

Full-batch training (`fit` running one batch an epoch) takes `LEAST_SQUARES_MU_MIN` instead: its
every step is judged on the whole training loss (`LevenbergMarquardt.mu_floor`).

A cross-entropy has no finite minimiser on a batch it can separate (a mini-batch of 32 against
thousands of weights always is): as `mu -> 0` the step fits the batch's linearisation exactly.
On mini-batches every step is accepted on its own batch, so `mu` falls to its floor, which then
acts as the step size. Measured with `benchmarks/lm_defaults_sweep.py digits` (64-32-10 digits
classifier, batches of 32, the tutorial rule, epochs to 97% validation accuracy on seeds 0-2):
floor 0.03: 6, 12, 10; 0.1: 7, 3, 6; 0.3: 8, 3, 8 (0.1 the fewest, median 6); 0.01 does not
reach 97% within 40 s on seeds 0 and 2, and 1e-10 (the squared-error default) stays at 88.9%
after 31 epochs (seed 0).
"""


class MuRule:
    """One rule for `mu`: the ladder of trial values in a step, acceptance, and the next `mu`.

    Formula:
    ```
    tutorial: trials mu, mu c_inc, mu c_inc^2, ...; first with loss < L(w) accepted;
              then mu <- mu_accepted / c_dec; none accepted: mu <- mu_last c_inc
    nielsen:  trials mu, mu nu, mu nu 2nu, ...; accepted when rho > 0, where
              rho = (L(w) - L(w - delta)) / (delta^T g + mu delta^T D delta);
              then mu <- mu max(1/3, 1 - (2 rho - 1)^3), nu <- 2; none: mu <- mu nu, nu <- 2 nu
    fixed:    one trial at mu, accepted whenever its loss is finite; mu unchanged
    ```
    `mu` is clipped to `[mu_min, mu_max]`, also where a ladder starts; `g` is half the gradient
    (`J^T r`).

    Args:
        name: One of `MU_RULES`.
        max_attempts: Int >= 1, trials per step (`"fixed"` makes one).
        mu_increase: Float > 1, `c_inc`.
        mu_decrease: Float > 1, `c_dec`.
        mu_min: Float >= 0, lower bound of `mu`.
        mu_max: Float > `mu_min`, upper bound of `mu`.

    Example:
    >>> import numpy as np
    >>> rule = MuRule("tutorial", 3, 10.0, 10.0, 1e-10, 1e10)
    >>> mus, _ = rule.ladder(np.float64(1e-3), np.float64(2.0))
    >>> np.asarray(mus).tolist()
    [0.001, 0.01, 0.1]

    References:
        Hagan, M. T., Menhaj, M. B. (1994). Training feedforward networks with the Marquardt
        algorithm. IEEE Transactions on Neural Networks 5(6).
        Nielsen, H. B. (1999). Damping parameter in Marquardt's method. IMM-REP-1999-05, DTU.
    """

    def __init__(self, name, max_attempts, mu_increase, mu_decrease, mu_min, mu_max):
        self.name = name
        self.attempts = 1 if name == "fixed" else max_attempts
        self.mu_increase, self.mu_decrease = mu_increase, mu_decrease
        self.mu_min, self.mu_max = mu_min, mu_max

    def ladder(self, mu, nu):
        """The trial values of `mu` in one step, and `nu` at each (float64, shape `(K,)`)."""
        mu, nu = ops.convert_to_tensor(mu, "float64"), ops.convert_to_tensor(nu, "float64")
        if self.name != "fixed":
            mu = ops.clip(mu, self.mu_min, self.mu_max)
        mus, nus = [], []
        for _ in range(self.attempts):
            mus.append(mu)
            nus.append(nu)
            if self.name == "tutorial":
                mu = ops.minimum(mu * self.mu_increase, self.mu_max)
            else:
                mu, nu = ops.minimum(mu * nu, self.mu_max), nu * 2.0
        return ops.stack(mus), ops.stack(nus)

    def accepts(self, trial_losses, steps, loss):
        """Which trials are taken: a finite step whose loss is below `loss` (any finite, fixed)."""
        finite = ops.isfinite(trial_losses) & ops.all(ops.isfinite(steps), axis=1)
        return finite if self.name == "fixed" else finite & (trial_losses < loss)

    def update(self, any_accepted, accepted_mu, rho, mus, nus, nu):
        """The next `(mu, nu)` after a step whose ladder was `mus`, `nus`."""
        if self.name == "fixed":
            return mus[0], nu
        if self.name == "tutorial":
            on_success = accepted_mu / self.mu_decrease
            on_failure = mus[-1] * self.mu_increase
        else:
            on_success = accepted_mu * ops.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
            on_failure = mus[-1] * nus[-1]
            nu = ops.where(any_accepted, 2.0, nus[-1] * 2.0)
        mu = ops.where(any_accepted, on_success, on_failure)
        return ops.clip(mu, self.mu_min, self.mu_max), nu


def gain_ratio(loss, trial_loss, step, gradient, mu, scale):
    """Nielsen's `rho`: actual over predicted loss reduction (1 where predicted is 0).

    Formula:
    ```
    rho = (L(w) - L(w - delta)) / (delta^T g + mu delta^T D delta),   D = diag(1 / scale^2)
    ```
    """
    predicted = ops.sum(step * gradient) + mu * ops.sum(ops.square(step / scale))
    rho = (loss - trial_loss) / predicted
    return ops.where(ops.isfinite(rho), rho, 1.0)
