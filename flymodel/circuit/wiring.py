"""PN→KC synaptic weights, every kind drawn by one seeded torch sampler: the circuit, FlyHash and BioHash share it.

A seed gives the same wiring on every device: draws are made by a CPU generator and then moved.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from flymodel.circuit.spec import CircuitSpec


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU generator: random draws are made on the CPU and moved, so a seed gives the same model on every device."""
    return torch.Generator(device="cpu").manual_seed(int(seed))


def claw_wiring(n_kc: int, n_pn: int, fan_in: int, generator: torch.Generator) -> torch.Tensor:
    """Binary (n_kc × n_pn) float32 weights: each KC receives fan_in distinct PNs chosen uniformly, weight 1.

    Dasgupta et al. 2017 (FlyHash); uniform sampling simplifies the measured glomerular biases (Caron et al. 2013).
    """
    if not 1 <= fan_in <= n_pn:
        raise ValueError(f"fan_in={fan_in} must lie in 1..n_pn={n_pn} (distinct PNs per KC)")
    inputs = torch.rand(n_kc, n_pn, generator=generator).argsort(dim=1)[:, :fan_in]  # fan_in distinct PNs per KC
    return torch.zeros(n_kc, n_pn).scatter_(1, inputs, 1.0)


def bernoulli_wiring(n_kc: int, n_pn: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    """Binary (n_kc × n_pn) float32 weights: each PN→KC synapse exists independently with the probability."""
    if not 0 < probability <= 1:
        raise ValueError(f"probability={probability} must lie in (0, 1]")
    return (torch.rand(n_kc, n_pn, generator=generator) < probability).float()


def gaussian_wiring(n_kc: int, n_pn: int, generator: torch.Generator) -> torch.Tensor:
    """Dense (n_kc × n_pn) float32 weights, every entry N(0, 1): the Krotov–Hopfield rule's start (Ryali et al. 2020, App. D)."""
    return torch.randn(n_kc, n_pn, generator=generator)


def random_wiring(spec: CircuitSpec) -> np.ndarray:
    """The spec's weights (n_kc × n_pn, float64) drawn from simulation.seed; the spiking and rate engines share them.

    sparse: claw_wiring with kc.fan_in (a FlyHash with m = kc.n, fan_in = kc.fan_in and seed = simulation.seed has
    exactly these weights); dense: gaussian_wiring (BioHash's initial weights for the same seed).
    """
    generator = seeded_generator(spec.simulation.seed)
    n_kc, n_pn = spec.kc.n, spec.inputs.n
    if spec.kc.wiring == "dense":
        weights = gaussian_wiring(n_kc, n_pn, generator)
    else:
        weights = claw_wiring(n_kc, n_pn, spec.kc.fan_in, generator)
    return weights.double().numpy()


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
