"""Simulate a Hawkes process with known parameters and an optional response.

The simulation uses the branching (cluster) construction, one generation at a time and
vectorised: immigrants arrive at the background rate, each event has a Poisson number of
children with mean ``n_star`` at lags drawn from the kernel, and a child born at or after
a response is kept with probability ``1 - e`` per response passed (for ``e < 0`` the
children are drawn at the larger rate and thinned). This is the same law as Ogata's
thinning and much faster.

Examples
--------
>>> from casekit.events.simulate import simulate
>>> t = simulate(mu=2.0, n_star=0.5, omega=4.0, end=50.0, seed=1)
>>> bool((t[1:] >= t[:-1]).all()), 50 < len(t) < 400
(True, True)
"""

from __future__ import annotations

import math

import numpy as np

from casekit.exceptions import InsufficientDataError, ParameterError

__all__ = ["simulate"]


def _positive(name: str, value, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ParameterError(f"{name} must be a positive number, not {value!r}")
    return v


def simulate(
    mu: float,
    n_star: float,
    omega: float | None = None,
    end: float = 30.0,
    *,
    kernel: str = "exp",
    theta: float | None = None,
    c: float | None = None,
    response=None,
    e: float = 0.0,
    exogenous=None,
    eta: float = 0.0,
    omega_x: float = 1.0,
    start: float = 0.0,
    max_events: int = 10_000_000,
    seed: int | None = None,
) -> np.ndarray:
    """Event times of a Hawkes process on ``[start, end)``, sorted.

    Parameters
    ----------
    mu : float
        Constant background rate (immigrants per day).
    n_star : float
        Branching ratio: expected children per event before any response.
    omega : float
        Decay rate of the exponential kernel ``omega * exp(-omega * u)`` (per day).
    end : float
        End of the simulated window (days).
    kernel : {"exp", "powerlaw"}
        ``"powerlaw"`` uses the Omori kernel ``theta c**theta / (u + c)**(1 + theta)``
        (give ``theta`` and ``c``).
    response : float or sequence of float, optional
        Response times: from each one on, the excitation is multiplied by ``1 - e``.
    e : float
        Effect of each response (``e < 0``: the response fuelled the storm).
    exogenous : sequence of float, optional
        Exogenous times (press coverage); each adds ``eta`` expected immigrants at
        lags ``Exp(omega_x)``.
    start : float
        Start of the window; no events before it.
    max_events : int
        Stop with InsufficientDataError beyond this (a supercritical process explodes).
    seed : int, optional
        Random seed.

    Returns
    -------
    numpy.ndarray
        Sorted event times.

    Examples
    --------
    >>> t = simulate(1.0, 0.6, 2.0, end=100.0, response=50.0, e=0.5, seed=3)
    >>> bool(((t >= 0) & (t < 100)).all())
    True
    """
    mu = _positive("mu", mu, allow_zero=True)
    n_star = _positive("n_star", n_star, allow_zero=True)
    end = float(end)
    if not end > start:
        raise ParameterError(f"end ({end}) must be after start ({start})")
    if kernel == "exp":
        omega = _positive("omega", omega)
    elif kernel == "powerlaw":
        theta, c = _positive("theta", theta), _positive("c", c)
    else:
        raise ParameterError(f"kernel must be 'exp' or 'powerlaw', not {kernel!r}")
    e = float(e)
    if not e < 1:
        raise ParameterError(f"e must be below 1 (1 would stop all spreading), not {e}")
    resp = np.sort(np.atleast_1d(np.asarray([] if response is None else response, float)))
    rng = np.random.default_rng(seed)
    m_max = max(1.0, (1.0 - e) ** len(resp))

    gen = [np.sort(rng.uniform(start, end, rng.poisson(mu * (end - start))))]
    if exogenous is not None and eta > 0:
        x = np.asarray(exogenous, float)
        k = rng.poisson(eta, len(x))
        kids = np.repeat(x, k) + rng.exponential(1.0 / omega_x, k.sum())
        gen.append(kids[(kids >= start) & (kids < end)])
    parents = np.concatenate(gen)
    out = [parents]
    total = len(parents)
    while len(parents):
        k = rng.poisson(n_star * m_max, len(parents))
        born = np.repeat(parents, k)
        if kernel == "exp":
            born = born + rng.exponential(1.0 / omega, len(born))
        else:
            born = born + c * (rng.uniform(size=len(born)) ** (-1.0 / theta) - 1.0)
        born = born[born < end]
        if len(resp):
            keep = (1.0 - e) ** np.searchsorted(resp, born, "right") / m_max
            born = born[rng.uniform(size=len(born)) < keep]
        total += len(born)
        if total > max_events:
            raise InsufficientDataError(
                f"the simulation passed max_events={max_events:,} events before day {end}: "
                "the process is supercritical or the window too long"
            )
        out.append(born)
        parents = born
    return np.sort(np.concatenate(out))
