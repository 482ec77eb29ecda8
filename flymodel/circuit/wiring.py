"""PN→KC synaptic weights, every kind drawn by one seeded torch sampler: the circuit, FlyHash and BioHash share it.

A seed gives the same wiring on every device: draws are made by a CPU generator and then moved.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from flymodel.circuit.spec import CircuitSpec

__all__ = ["seeded_generator", "claw_wiring", "bernoulli_wiring", "gaussian_wiring", "degree_preserving_shuffle",
           "kc_degree_shuffle", "connectome_wiring", "apl_weights", "random_wiring", "check_weights", "hasher_weights"]


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU generator: random draws are made on the CPU and moved, so a seed gives the same model on every device.

    Parameters
    ----------
    seed : int
        The seed.

    Returns
    -------
    torch.Generator
        A CPU generator seeded with ``seed``.

    Examples
    --------
    >>> import torch
    >>> from flymodel.circuit.wiring import seeded_generator
    >>> torch.rand(3, generator=seeded_generator(0))
    tensor([0.4963, 0.7682, 0.0885])
    """
    return torch.Generator(device="cpu").manual_seed(int(seed))


def claw_wiring(n_kc: int, n_pn: int, fan_in: int, generator: torch.Generator) -> torch.Tensor:
    """Binary (n_kc × n_pn) float32 weights: each KC receives fan_in distinct PNs chosen uniformly, weight 1.

    Dasgupta et al. 2017 (FlyHash); uniform sampling simplifies the measured glomerular biases (Caron et al. 2013).

    Parameters
    ----------
    n_kc : int
        Number of KCs (rows).
    n_pn : int
        Number of PNs (columns).
    fan_in : int
        PNs (claws) per KC, in 1..n_pn.
    generator : torch.Generator
        The source of randomness, e.g. ``seeded_generator(seed)``.

    Returns
    -------
    torch.Tensor of shape (n_kc, n_pn), dtype torch.float32
        1 where a PN connects to a KC, else 0.

    Raises
    ------
    ValueError
        If ``fan_in`` is not in 1..n_pn.

    Examples
    --------
    >>> from flymodel.circuit.wiring import claw_wiring, seeded_generator
    >>> weights = claw_wiring(5, 24, 6, seeded_generator(0))
    >>> weights.shape, weights.dtype
    (torch.Size([5, 24]), torch.float32)
    >>> weights.sum(dim=1)
    tensor([6., 6., 6., 6., 6.])
    """
    if not 1 <= fan_in <= n_pn:
        raise ValueError(f"fan_in={fan_in} must lie in 1..n_pn={n_pn} (distinct PNs per KC)")
    inputs = torch.rand(n_kc, n_pn, generator=generator).argsort(dim=1)[:, :fan_in]  # fan_in distinct PNs per KC
    return torch.zeros(n_kc, n_pn).scatter_(1, inputs, 1.0)


def bernoulli_wiring(n_kc: int, n_pn: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    """Binary (n_kc × n_pn) float32 weights: each PN→KC synapse exists independently with the probability.

    The number of PNs per KC is then binomial, Bin(n_pn, probability), and may be 0.

    Parameters
    ----------
    n_kc : int
        Number of KCs (rows).
    n_pn : int
        Number of PNs (columns).
    probability : float
        Probability of each synapse, in (0, 1].
    generator : torch.Generator
        The source of randomness, e.g. ``seeded_generator(seed)``.

    Returns
    -------
    torch.Tensor of shape (n_kc, n_pn), dtype torch.float32
        1 where a PN connects to a KC, else 0.

    Raises
    ------
    ValueError
        If ``probability`` is not in (0, 1].

    Examples
    --------
    >>> from flymodel.circuit.wiring import bernoulli_wiring, seeded_generator
    >>> weights = bernoulli_wiring(1000, 24, 0.25, seeded_generator(0))
    >>> round(weights.mean().item(), 2)
    0.25
    >>> weights.sum(dim=1)[:5]
    tensor([ 5., 10.,  6.,  7.,  7.])
    """
    if not 0 < probability <= 1:
        raise ValueError(f"probability={probability} must lie in (0, 1]")
    return (torch.rand(n_kc, n_pn, generator=generator) < probability).float()


def gaussian_wiring(n_kc: int, n_pn: int, generator: torch.Generator) -> torch.Tensor:
    """Dense (n_kc × n_pn) float32 weights, every entry N(0, 1): the Krotov–Hopfield rule's start.

    BioHash's initial weights (Ryali et al. 2020, App. D).

    Parameters
    ----------
    n_kc : int
        Number of KCs (rows).
    n_pn : int
        Number of PNs (columns).
    generator : torch.Generator
        The source of randomness, e.g. ``seeded_generator(seed)``.

    Returns
    -------
    torch.Tensor of shape (n_kc, n_pn), dtype torch.float32
        Independent standard normal weights.

    Examples
    --------
    >>> from flymodel.circuit.wiring import gaussian_wiring, seeded_generator
    >>> weights = gaussian_wiring(1000, 24, seeded_generator(0))
    >>> weights.shape, round(weights.mean().item(), 1), round(weights.std().item(), 1)
    (torch.Size([1000, 24]), 0.0, 1.0)
    """
    return torch.randn(n_kc, n_pn, generator=generator)


#: Curveball trades per KC in a degree-preserving shuffle: each KC takes part in about twice this many trades.
CURVEBALL_TRADES_PER_KC = 20


def degree_preserving_shuffle(weights: np.ndarray, generator: torch.Generator,
                              trades_per_row: int = CURVEBALL_TRADES_PER_KC) -> np.ndarray:
    """A random matrix with exactly the rows' and columns' numbers of non-zero entries, by the curveball algorithm.

    The row and column counts are the KC in-degrees and the glomerulus partners. Curveball algorithm: Strona et al.
    2014, Nat. Commun. 5:4114; uniform over such matrices, Carstens 2016. Two random rows trade the columns only one
    of them has. A weight travels with its edge.

    Parameters
    ----------
    weights : ndarray of shape (n_kc, n_pn)
        The matrix to shuffle (e.g. a connectome's KC × glomerulus weights); zeros are absent edges.
    generator : torch.Generator
        The source of randomness, e.g. ``seeded_generator(seed)``.
    trades_per_row : int, default CURVEBALL_TRADES_PER_KC
        Trades per row (20): each row takes part in about twice this many trades.

    Returns
    -------
    ndarray of shape (n_kc, n_pn)
        The shuffled matrix, with the dtype of ``weights``.

    Examples
    --------
    Weights that name their column (j + 1 in column j) show that they move with their edges:

    >>> import numpy as np
    >>> from flymodel.circuit.wiring import claw_wiring, degree_preserving_shuffle, seeded_generator
    >>> weights = claw_wiring(6, 8, 3, seeded_generator(1)).numpy() * np.arange(1, 9)
    >>> shuffled = degree_preserving_shuffle(weights, seeded_generator(0))
    >>> np.array_equal(shuffled, weights)
    False
    >>> (shuffled != 0).sum(axis=1), (shuffled != 0).sum(axis=0)
    (array([3, 3, 3, 3, 3, 3]), array([1, 5, 1, 1, 4, 2, 2, 2]))
    >>> (weights != 0).sum(axis=0)
    array([1, 5, 1, 1, 4, 2, 2, 2])
    >>> bool(np.all((shuffled == 0) | (shuffled == np.arange(1, 9))))
    True
    """
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
    """A random matrix in which each row keeps its number of non-zero entries and its weights, on new columns.

    Columns are drawn without replacement with probability ∝ each column's share of all edges (the null of Caron et
    al. 2013), or uniformly (``by_frequency=False``: the classic random claws with the data's in-degrees). Unlike
    ``degree_preserving_shuffle``, the columns' numbers of edges change.

    Parameters
    ----------
    weights : ndarray of shape (n_kc, n_pn)
        The matrix to shuffle; zeros are absent edges.
    generator : torch.Generator
        The source of randomness, e.g. ``seeded_generator(seed)``.
    by_frequency : bool, default True
        Draw columns in proportion to their number of edges (True) or uniformly (False).

    Returns
    -------
    ndarray of shape (n_kc, n_pn)
        The shuffled matrix, with the dtype of ``weights``.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit.wiring import claw_wiring, kc_degree_shuffle, seeded_generator
    >>> weights = claw_wiring(6, 8, 3, seeded_generator(1)).numpy() * np.arange(1, 9)
    >>> shuffled = kc_degree_shuffle(weights, seeded_generator(0))
    >>> (shuffled != 0).sum(axis=1)
    array([3, 3, 3, 3, 3, 3])
    >>> np.array_equal(np.sort(shuffled, axis=1), np.sort(weights, axis=1))
    True
    """
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
    """The spec's KC × glomerulus weights from the connectome: each KC's glomeruli, summed over their PNs.

    Binary weights, or synapse counts divided by the mean count of a connected pair (so that epsp_mv is the
    depolarisation per typical glomerular input); optionally only KCs of kc_types. Pairs with fewer than
    ``[kc] min_synapses`` synapses are dropped.

    Parameters
    ----------
    spec : CircuitSpec
        A circuit with ``[kc] wiring`` ``'connectome'`` or ``'shuffled'``; its ``[kc]`` keys ``weights``,
        ``min_synapses`` and ``kc_types`` select the data.

    Returns
    -------
    ndarray of shape (n_kc, n_glomeruli), dtype float64
        The weights; for ``'synapses'`` their mean over connected pairs is 1.

    Raises
    ------
    ValueError
        If ``[kc] n`` is not the number of (selected) KCs in the connectome, or ``[inputs] n`` is not its number of
        glomeruli.
    FileNotFoundError
        If a connectome data file is missing or fails its checksum (``flymodel.data.files.DataFileError``).

    Examples
    --------
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.wiring import connectome_wiring
    >>> weights = connectome_wiring(load_circuit("hemibrain_mb"))
    >>> weights.shape, round(float(weights[weights > 0].mean()), 6)
    ((1776, 60), 1.0)
    >>> round(float((weights > 0).sum(axis=1).mean()), 2)
    6.15
    """
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
    """Per-KC weights of the KC→APL synapses, or None when every KC spike adds 1 to the APL.

    None for ``apl.weights = 'uniform'``; for ``'connectome'``, each KC's KC→APL synapse count over all regions
    divided by the mean over the circuit's KCs.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit; ``[apl] weights`` picks the weights and ``[kc]`` ``min_synapses`` and ``kc_types`` the KCs.

    Returns
    -------
    ndarray of shape (n_kc,), dtype float64, or None
        The weights, of mean 1; None for uniform weights.

    Raises
    ------
    ValueError
        If ``[kc] n`` is not the number of (selected) KCs in the connectome.
    FileNotFoundError
        If a connectome data file is missing or fails its checksum (``flymodel.data.files.DataFileError``).

    Examples
    --------
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.wiring import apl_weights
    >>> spec = load_circuit("hemibrain_mb")
    >>> apl_weights(spec) is None
    True
    >>> weights = apl_weights(spec.replace(**{"apl.weights": "connectome"}))
    >>> weights.shape, round(float(weights.mean()), 6)
    ((1776,), 1.0)
    """
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

    sparse: ``claw_wiring`` with kc.fan_in (a FlyHash with m = kc.n, fan_in = kc.fan_in and seed = simulation.seed
    has exactly these weights); dense: ``gaussian_wiring`` (BioHash's initial weights for the same seed); connectome:
    the data's wiring (``connectome_wiring``); shuffled: the data's wiring shuffled by kc.null from kc.shuffle_seed
    (``degree_preserving_shuffle``, or ``kc_degree_shuffle`` for ``'kc_degree'`` and ``'uniform'``).

    Parameters
    ----------
    spec : CircuitSpec
        The circuit; its ``[kc]`` section says how to wire.

    Returns
    -------
    ndarray of shape (n_kc, n_pn), dtype float64
        The PN→KC weights.

    Raises
    ------
    ValueError
        If a connectome wiring does not match the spec's ``[kc] n`` or ``[inputs] n``.
    FileNotFoundError
        If a connectome data file is missing or fails its checksum (``flymodel.data.files.DataFileError``).

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.wiring import claw_wiring, random_wiring, seeded_generator
    >>> spec = load_circuit("drosophila_mb").replace(**{"kc.n": 100})
    >>> weights = random_wiring(spec)
    >>> weights.shape, weights.dtype, np.unique(weights.sum(axis=1))
    ((100, 24), dtype('float64'), array([6.]))
    >>> np.array_equal(weights, claw_wiring(100, 24, 6, seeded_generator(spec.simulation.seed)).numpy())
    True
    >>> np.array_equal(weights, random_wiring(spec.replace(**{"simulation.seed": 1})))
    False
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
    """Return weights as a finite float64 (n_kc × n_pn) matrix for this spec, or raise naming the problem.

    Parameters
    ----------
    weights : array-like or torch.Tensor of shape (n_kc, n_pn)
        PN→KC weights (a tensor is detached and copied to the CPU).
    spec : CircuitSpec
        The circuit the weights are for: ``[kc] n`` rows and ``[inputs] n`` columns.

    Returns
    -------
    ndarray of shape (n_kc, n_pn), dtype float64
        The weights.

    Raises
    ------
    ValueError
        If the shape is not (``kc.n``, ``inputs.n``) or a weight is NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.wiring import check_weights
    >>> spec = load_circuit("drosophila_mb").replace(**{"kc.n": 10})
    >>> check_weights(np.ones((10, 24), dtype=np.float32), spec).dtype
    dtype('float64')
    >>> check_weights(np.ones((24, 10)), spec)
    Traceback (most recent call last):
    ...
    ValueError: weights have shape (24, 10); circuit 'drosophila_mb' expects (kc.n, inputs.n) = (10, 24)
    """
    arr = np.asarray(weights.detach().cpu() if hasattr(weights, "detach") else weights, dtype=float)
    expected = (spec.kc.n, spec.inputs.n)
    if arr.shape != expected:
        raise ValueError(f"weights have shape {arr.shape}; circuit {spec.name!r} expects (kc.n, inputs.n) = {expected}")
    if not np.isfinite(arr).all():
        raise ValueError(f"weights contain {int((~np.isfinite(arr)).sum())} NaN or infinite values")
    return arr


def hasher_weights(hasher: Any) -> np.ndarray:
    """The PN→KC weights of a fitted FlyHash/BioHash (``weights_``, n_kc × n_pn), to load into a circuit.

    Parameters
    ----------
    hasher : FlyHash or BioHash
        A fitted hasher with a ``weights_`` tensor.

    Returns
    -------
    ndarray of shape (n_kc, n_pn), dtype float64
        A copy of its weights on the CPU.

    Raises
    ------
    ValueError
        If the hasher has no ``weights_`` (not fitted, or not a FlyHash or BioHash).

    Examples
    --------
    A FlyHash with m = kc.n, fan_in = kc.fan_in and the spec's seed has the circuit's weights:

    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.wiring import hasher_weights, random_wiring
    >>> from flymodel.hashing import FlyHash
    >>> spec = load_circuit("drosophila_mb").replace(**{"kc.n": 50})
    >>> X = np.random.default_rng(0).random((10, 24))
    >>> hasher = FlyHash(k=5, m=50, fan_in=6, seed=0, device="cpu").fit(X)
    >>> weights = hasher_weights(hasher)
    >>> weights.shape, np.array_equal(weights, random_wiring(spec))
    ((50, 24), True)
    """
    if not hasattr(hasher, "weights_"):
        raise ValueError(f"{type(hasher).__name__} has no fitted weights_; fit a FlyHash or BioHash first")
    return np.asarray(hasher.weights_.detach().cpu(), dtype=float)
