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


#: Curveball trades per KC in a degree-preserving shuffle: each KC takes part in about twice this many trades.
CURVEBALL_TRADES_PER_KC = 20


def degree_preserving_shuffle(weights: np.ndarray, generator: torch.Generator,
                              trades_per_row: int = CURVEBALL_TRADES_PER_KC) -> np.ndarray:
    """A random matrix with exactly the rows' and columns' numbers of non-zero entries (KC in-degrees, glomerulus
    partners), by the curveball algorithm (Strona et al. 2014, Nat. Commun. 5:4114; uniform over such matrices,
    Carstens 2016): two random rows trade the columns only one of them has. A weight travels with its edge."""
    rows = [dict(zip(np.flatnonzero(row).tolist(), row[row != 0].tolist())) for row in weights]
    n, trades = len(rows), trades_per_row * len(rows)
    widest = 2 * max(len(r) for r in rows)
    pairs = torch.randint(n, (trades, 2), generator=generator).tolist()
    keys = torch.rand(trades, widest, generator=generator)
    for t, (a, b) in enumerate(pairs):
        if a == b:
            continue
        only_a = [c for c in rows[a] if c not in rows[b]]
        only_b = [c for c in rows[b] if c not in rows[a]]
        if not only_a or not only_b:
            continue
        pool = [(c, rows[a].pop(c)) for c in only_a] + [(c, rows[b].pop(c)) for c in only_b]
        order = keys[t, :len(pool)].argsort().tolist()
        for rank, index in enumerate(order):
            column, weight = pool[index]
            rows[a if rank < len(only_a) else b][column] = weight
    out = np.zeros_like(weights)
    for r, row in enumerate(rows):
        out[r, list(row)] = list(row.values())
    return out


def kc_degree_shuffle(weights: np.ndarray, generator: torch.Generator, by_frequency: bool = True) -> np.ndarray:
    """A random matrix in which each row keeps its number of non-zero entries and its weights, on columns drawn
    without replacement with probability ∝ each column's share of all edges (the null of Caron et al. 2013), or
    uniformly (by_frequency=False: the classic random claws with the data's in-degrees)."""
    degree = (weights != 0).sum(axis=0).astype(float)
    p = torch.as_tensor(degree / degree.sum() if by_frequency else np.ones(weights.shape[1]) / weights.shape[1])
    out = np.zeros_like(weights)
    for r, row in enumerate(weights):
        values = row[row != 0]
        if len(values):
            columns = torch.multinomial(p, len(values), replacement=False, generator=generator).numpy()
            out[r, columns] = values
    return out


def connectome_wiring(spec: CircuitSpec) -> np.ndarray:
    """The spec's KC × glomerulus weights from the connectome: the glomeruli of each KC, summed over their PNs, as
    binary weights or as synapse counts divided by the mean count of a connected pair (so that epsp_mv is the
    depolarisation per typical glomerular input); optionally only KCs of kc_types."""
    from flymodel.data.connectome import load_hemibrain

    kc = spec.kc
    data = load_hemibrain(min_synapses=kc.min_synapses)
    synapses = data.glomerulus_synapses[data.kc_subset(kc.kc_types)] if kc.kc_types else data.glomerulus_synapses
    if synapses.shape[0] != kc.n:
        raise ValueError(f"{spec.source}: [kc] n = {kc.n}, but the {kc.connectome} connectome has {synapses.shape[0]} KCs"
                         f"{' of types ' + ', '.join(kc.kc_types) if kc.kc_types else ''}; expected n = {synapses.shape[0]}")
    if spec.inputs.n != len(data.glomeruli):
        raise ValueError(f"{spec.source}: [inputs] n = {spec.inputs.n} PN channels, but the {kc.connectome} connectome's "
                         f"PN channels are its {len(data.glomeruli)} glomeruli; expected n = {len(data.glomeruli)}")
    if kc.weights == "binary":
        return (synapses > 0).astype(float)
    return synapses / synapses[synapses > 0].mean()


def apl_weights(spec: CircuitSpec) -> np.ndarray | None:
    """Per-KC weights of the KC→APL synapses: None for apl.weights = 'uniform' (every KC spike adds 1 to the APL);
    for 'connectome', each KC's KC→APL synapse count over all regions divided by the mean over the circuit's KCs."""
    if spec.apl.weights == "uniform":
        return None
    from flymodel.data.connectome import load_hemibrain

    data = load_hemibrain(min_synapses=spec.kc.min_synapses)
    counts = data.apl_synapses[data.kc_subset(spec.kc.kc_types)] if spec.kc.kc_types else data.apl_synapses
    if len(counts) != spec.kc.n:
        raise ValueError(f"{spec.source}: [kc] n = {spec.kc.n}, but the {spec.kc.connectome} connectome has "
                         f"{len(counts)} KCs with KC→APL counts; expected n = {len(counts)}")
    return counts / counts.mean()


def random_wiring(spec: CircuitSpec) -> np.ndarray:
    """The spec's weights (n_kc × n_pn, float64) drawn from simulation.seed; the spiking and rate engines share them.

    sparse: claw_wiring with kc.fan_in (a FlyHash with m = kc.n, fan_in = kc.fan_in and seed = simulation.seed has
    exactly these weights); dense: gaussian_wiring (BioHash's initial weights for the same seed); connectome: the
    data's wiring (connectome_wiring); shuffled: the data's wiring shuffled by kc.null from kc.shuffle_seed.
    """
    kc = spec.kc
    if kc.wiring == "connectome":
        return connectome_wiring(spec)
    if kc.wiring == "shuffled":
        data, generator = connectome_wiring(spec), seeded_generator(kc.shuffle_seed)
        if kc.null == "degree_preserving":
            return degree_preserving_shuffle(data, generator)
        return kc_degree_shuffle(data, generator, by_frequency=kc.null == "kc_degree")
    generator = seeded_generator(spec.simulation.seed)
    n_kc, n_pn = kc.n, spec.inputs.n
    if kc.wiring == "dense":
        weights = gaussian_wiring(n_kc, n_pn, generator)
    else:
        weights = claw_wiring(n_kc, n_pn, kc.fan_in, generator)
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
