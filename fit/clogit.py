"""The conditional logit the rankers are fitted with (fit/fit_phrase.py: answer-phrase spans;
fit/fit_choice.py: answer sentences; fit/fit_fusion.py: the score fusion's weights): a softmax over
each group's candidate rows, L2-penalised."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def fit_conditional_logit(X: np.ndarray, target: np.ndarray, starts: np.ndarray, group: np.ndarray,
                          l2: float, maxiter: int) -> np.ndarray:
    """Weights maximising the target-weighted log-likelihood. Rows are grouped contiguously:
    `starts` are the first row of each group, `group` the group of each row, and `target` sums to
    1 within each group (the share of the group's probability that should go to the row)."""
    n = len(starts)

    def loss(w):
        s = X @ w
        m = np.maximum.reduceat(s, starts)
        e = np.exp(s - m[group])
        z = np.add.reduceat(e, starts)
        p = e / z[group]
        nll = -(target * (s - m[group] - np.log(z[group]))).sum() / n
        return nll + 0.5 * l2 / n * w @ w, X.T @ (p - target) / n + l2 / n * w

    return minimize(loss, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": maxiter}).x
