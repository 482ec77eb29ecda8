"""PN→KC synaptic weights from a circuit spec: random sparse claws (FlyHash) or dense Gaussian rows to be learned."""

from __future__ import annotations

from typing import Any

import numpy as np

from flymodel.circuit.spec import CircuitSpec


def random_wiring(spec: CircuitSpec) -> np.ndarray:
    """Weights (n_kc × n_pn) drawn from the spec's seed; the spiking network and the rate model share them.

    sparse: each KC receives fan_in distinct PNs chosen uniformly, weight 1 (Dasgupta et al. 2017; uniform
    sampling is a simplification of the measured glomerular biases, Caron et al. 2013).
    dense: every entry N(0, 1), the initial state of the Krotov–Hopfield rule (Ryali et al. 2020, Appendix D).
    """
    rng = np.random.default_rng(spec.simulation.seed)
    n_kc, n_pn = spec.kc.n, spec.inputs.n
    if spec.kc.wiring == "dense":
        return rng.standard_normal((n_kc, n_pn))
    inputs = np.argsort(rng.random((n_kc, n_pn)), axis=1)[:, :spec.kc.fan_in]
    weights = np.zeros((n_kc, n_pn))
    np.put_along_axis(weights, inputs, 1.0, axis=1)
    return weights


def check_weights(weights: Any, spec: CircuitSpec) -> np.ndarray:
    """Return weights as a finite float64 (n_kc × n_pn) matrix for this spec, or raise naming the problem."""
    arr = np.asarray(weights.detach().cpu() if hasattr(weights, "detach") else weights, dtype=float)
    expected = (spec.kc.n, spec.inputs.n)
    if arr.shape != expected:
        raise ValueError(f"weights have shape {arr.shape}; circuit {spec.name!r} expects (kc.n, inputs.n) = {expected}")
    if not np.isfinite(arr).all():
        raise ValueError(f"weights contain {int((~np.isfinite(arr)).sum())} NaN or infinite values")
    return arr


def hasher_weights(hasher: Any) -> np.ndarray:
    """The PN→KC weights of a fitted FlyHash/BioHash (weights_, n_kc × n_pn), to load into a circuit."""
    if not hasattr(hasher, "weights_"):
        raise ValueError(f"{type(hasher).__name__} has no fitted weights_; fit a FlyHash or BioHash first")
    return np.asarray(hasher.weights_.detach().cpu(), dtype=float)
