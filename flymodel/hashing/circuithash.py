"""CircuitHash: any circuit spec as a hasher, encoded by the rate or the spiking engine of the same spec.

fit learns the circuit's plasticity where it has any (the Krotov–Hopfield rule of Ryali et al. 2020, eq. 1, in the rate
engine; the spiking rule of ``flymodel.spiking.network`` in the spiking engine), and otherwise draws its wiring from
the seed. transform reads out boolean KC codes:

- ``readout='top_k'``: the k most driven KCs (rate: depolarisation; spiking: spike counts), exactly k per code;
- ``readout='apl'``: the KCs that respond under APL feedback (rate: a positive rate at the steady state; spiking: at
  least ``simulation.min_spikes`` spikes), so the number of active bits varies from stimulus to stimulus. With k
  given, fit sets the APL gain (rate engine) to the smallest at which at most k KCs respond on average to the
  training stimuli.

Codes of different densities are ranked by Hamming distance ``|q| + |b| − 2|q ∧ b|`` (``flymodel.index``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from flymodel.circuit.kwta import kwta
from flymodel.circuit.rate import RateCircuit, apl_steady_state
from flymodel.circuit.spec import CircuitSpec, load_circuit
from flymodel.circuit.stimuli import feature_rates
from flymodel.circuit.wiring import random_wiring
from flymodel.hashing.base import Hasher
from flymodel.learning import PlasticityRule, TrainingSchedule, train_synapses
from flymodel.spiking.circuit import SpikingCircuit, available_memory_bytes, run_block_size, run_memory_bytes
from flymodel.spiking.devices import DEVICES
from flymodel.validation import check_choice, check_features, check_int, resolve_device

ENGINES = ("rate", "spiking")
READOUTS = ("apl", "top_k")
#: At most this many training stimuli (a seeded subset) set the APL gain for readout='apl' with k.
CALIBRATION_STIMULI = 10_000
#: Bisection steps on the APL gain (the gain interval shrinks 2^60-fold).
CALIBRATION_STEPS = 60
#: Fraction of the available memory one spiking run may plan for (flymodel.spiking.circuit.run_memory_bytes).
SPIKING_MEMORY_FRACTION = 0.5


def resolve_circuit(circuit: str | os.PathLike[str] | CircuitSpec | dict[str, Any]) -> CircuitSpec:
    """A CircuitSpec from a name in circuits/, a .toml path, a spec, or the dictionary of CircuitSpec.to_dict.

    Parameters
    ----------
    circuit : str or os.PathLike or CircuitSpec or dict
        A circuit name such as ``'drosophila_mb'`` (read from ``circuits/``), a path to a ``.toml`` circuit file,
        a ``CircuitSpec`` (returned as is), or the dictionary that ``CircuitSpec.to_dict`` writes.

    Returns
    -------
    CircuitSpec
        The validated circuit spec.

    Raises
    ------
    TypeError
        If ``circuit`` is none of these.
    CircuitSpecError
        If the file does not exist or is unreadable, or a key in it (or in the dictionary) is unknown, missing or
        out of range.

    Examples
    --------
    >>> from flymodel.hashing.circuithash import resolve_circuit
    >>> spec = resolve_circuit("drosophila_mb")
    >>> spec.inputs.n, spec.kc.n
    (24, 2000)
    >>> resolve_circuit(spec.to_dict()) == spec
    True
    """
    if isinstance(circuit, CircuitSpec):
        return circuit
    if isinstance(circuit, dict):
        return CircuitSpec.from_dict(circuit)
    if isinstance(circuit, (str, os.PathLike)):
        return load_circuit(circuit)
    raise TypeError(f"circuit={circuit!r} must be a circuit name, a .toml path, a CircuitSpec or its to_dict()")


def brian2_device(device: str) -> str:
    """The Brian2 device of a spiking encode: 'auto' and 'cpu' mean cpp_standalone, 'cuda[:N]' cuda_standalone.

    Parameters
    ----------
    device : str
        ``'auto'``, ``'cpu'``, ``'cuda'``, ``'cuda:N'``, or a Brian2 device of ``flymodel.spiking.DEVICES``
        (``'numpy'``, ``'cython'``, ``'cpp_standalone'``, ``'cuda_standalone'``), returned as is.

    Returns
    -------
    str
        The Brian2 device name.

    Raises
    ------
    ValueError
        If ``device`` is none of these.

    Examples
    --------
    >>> from flymodel.hashing.circuithash import brian2_device
    >>> brian2_device("auto"), brian2_device("cuda:1"), brian2_device("numpy")
    ('cpp_standalone', 'cuda_standalone', 'numpy')
    """
    if device in ("auto", "cpu"):
        return "cpp_standalone"
    if device == "cuda" or device.startswith("cuda:"):
        return "cuda_standalone"
    check_choice(device, "device (spiking engine)", ("auto", "cpu", "cuda", *DEVICES))
    return device


class CircuitHash(Hasher):
    """A circuit spec as an encoder: boolean KC codes from its rate or spiking engine.

    ``fit`` learns the circuit's PN→KC synapses from X where its plasticity is enabled (rate engine: the
    Krotov–Hopfield rule; spiking engine: one presentation of each stimulus to the plastic spiking circuit), and
    otherwise draws its wiring from the seed; with ``readout='apl'`` and k, it then sets the APL gain. ``transform``
    returns one boolean code of kc.n KCs per stimulus.

    Parameters
    ----------
    circuit : str or os.PathLike or CircuitSpec or dict, default "mnist_kc"
        A name in ``circuits/`` (e.g. ``'mnist_kc'``), a ``.toml`` path, a ``CircuitSpec``, or its ``to_dict()``.
    engine : {"rate", "spiking"}, default "rate"
        ``'rate'`` (``flymodel.circuit.rate``, torch) or ``'spiking'`` (``flymodel.spiking``, Brian2).
    readout : {"top_k", "apl"}, default "top_k"
        ``'top_k'`` (exactly k active KCs) or ``'apl'`` (the KCs that respond under APL feedback; a varying
        number).
    k : int or None, default None
        Active KCs for ``'top_k'`` (required); for ``'apl'``, the most KCs that may respond on average to the
        training stimuli, which sets the APL gain to the smallest giving at most that many (rate engine; KCs with
        equal drive respond together, so the mean can fall below k), or None to keep the spec's ``apl.gain_mv``.
        At most kc.n − 1.
    overrides : dict or None, default None
        Dotted spec changes applied first, e.g. ``{"apl.gain_mv": 3.0, "kc.n": 2000}``.
    seed : int, default 0
        Replaces ``simulation.seed``: the wiring (or the initial weights learning starts from), the spike trains
        and the choice of the ``max_train`` training stimuli.
    device : str, default "auto"
        Rate engine: a torch device (``'auto'`` picks CUDA when present); spiking engine: ``'auto'``/``'cpu'``
        (cpp_standalone), ``'cuda'`` (cuda_standalone) or any Brian2 device of ``flymodel.spiking.DEVICES``.
    max_train : int or None, default None
        Learn from (and set the APL gain on) at most this many training stimuli, a seeded subset; None: all.
    progress : bool, default False
        Show progress bars while learning and encoding.

    Attributes
    ----------
    spec_ : dict
        The circuit spec used, with the overrides and the seed applied (``CircuitSpec.to_dict()``).
    weights_ : torch.Tensor of shape (kc.n, inputs.n), dtype float64
        The PN→KC synapses, drawn or learned.
    apl_gain_mv_ : float
        The APL gain (mV) of the ``'apl'`` readout: the spec's, or the one set by ``fit`` to give k responding KCs
        on average.
    training_log_ : list of dict
        The rate engine's learning log, one entry per epoch (only when the rate engine learned).
    training_seconds_ : dict of str to float
        Seconds to ``'build'`` and ``'simulate'`` the plastic spiking circuit (only when the spiking engine
        learned).
    n_features_in_ : int
        Number of features seen by ``fit``: the spec's ``inputs.n``.

    Notes
    -----
    Features are read as the spec's input source reads them (``flymodel.circuit.stimuli.feature_rates``):
    intensities in [0, 1] for image circuits, ORN rates (Hz) for odour circuits, PN rates (Hz) for gaussian ones.
    Codes of the ``'apl'`` readout vary in size; ``encode`` stores them as ``SparseCodes`` and
    ``flymodel.index`` ranks them by Hamming distance.

    Examples
    --------
    The fly's mushroom body (24 odour channels) with 50 KCs, on synthetic ORN rates in Hz:

    >>> import numpy as np
    >>> from flymodel.hashing import CircuitHash
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 100, size=(20, 24))
    >>> hasher = CircuitHash("drosophila_mb", k=4, overrides={"kc.n": 50}, device="cpu").fit(X)
    >>> hasher.weights_.shape  # 50 KCs, 6 random claws each
    torch.Size([50, 24])
    >>> codes = hasher.transform(X)  # the 4 most driven KCs of each stimulus
    >>> codes.shape, codes.sum(axis=1)[:5].tolist()
    ((20, 50), [4, 4, 4, 4, 4])
    >>> hasher.encode(X).shape  # stored as the indices of the active KCs
    (20, 4)

    Under APL feedback the number of responding KCs varies; with k, fit sets the APL gain so that on average at
    most k respond:

    >>> apl = CircuitHash("drosophila_mb", readout="apl", k=4, overrides={"kc.n": 50}, device="cpu").fit(X)
    >>> sizes = apl.transform(X).sum(axis=1)
    >>> bool(sizes.mean() <= 4), len(set(sizes.tolist())) > 1
    (True, True)
    >>> type(apl.encode(X)).__name__
    'SparseCodes'
    """

    sparse = True

    def __init__(self, circuit: str | os.PathLike[str] | CircuitSpec | dict[str, Any] = "mnist_kc",
                 engine: str = "rate", readout: str = "top_k", k: int | None = None,
                 overrides: dict[str, Any] | None = None, seed: int = 0, device: str = "auto",
                 max_train: int | None = None, progress: bool = False):
        self.circuit = circuit
        self.engine = engine
        self.readout = readout
        self.k = k
        self.overrides = overrides
        self.seed = seed
        self.device = device
        self.max_train = max_train
        self.progress = progress

    # --- parameters ----------------------------------------------------------------------------------------------
    @property
    def torch_device(self) -> torch.device:  # a property, described without Returns; numpydoc ignore=RT01
        """The rate engine's torch device; the spiking engine works on the CPU's numpy arrays.

        For the rate engine ``device`` resolved (``'auto'`` picks CUDA when present), for the spiking engine
        ``cpu``.
        """
        return resolve_device(self.device) if self.engine == "rate" else torch.device("cpu")

    def _spec(self) -> CircuitSpec:
        """The circuit with the overrides and the seed applied."""
        overrides = {} if self.overrides is None else self.overrides
        if not isinstance(overrides, dict):
            raise TypeError(f"overrides={overrides!r} must be a dict of dotted spec keys, e.g. {{'apl.gain_mv': 3.0}}")
        return resolve_circuit(self.circuit).replace(**overrides, **{"simulation.seed": self.seed})

    def _validate_params(self, n_features: int) -> None:
        check_choice(self.engine, "engine", ENGINES)
        check_choice(self.readout, "readout", READOUTS)
        check_int(self.seed, "seed", minimum=0)
        spec = self._spec()
        if n_features != spec.inputs.n:
            raise ValueError(f"X has {n_features} features; circuit {spec.name!r} has [inputs] n = {spec.inputs.n} "
                             f"PNs, one per feature")
        if self.k is None and self.readout == "top_k":
            raise ValueError("k=None: readout='top_k' needs k, the number of active KCs per code")
        if self.k is not None:
            check_int(self.k, "k", minimum=1)
            if self.k >= spec.kc.n:
                raise ValueError(f"k={self.k} must be smaller than kc.n={spec.kc.n} (the number of Kenyon cells)")
            if self.readout == "apl" and self.engine == "spiking":
                raise ValueError(f"k={self.k} would set the APL gain, which only the rate engine calibrates; with "
                                 f"engine='spiking' and readout='apl' use k=None (the spec's apl.gain_mv)")
        if self.max_train is not None:
            check_int(self.max_train, "max_train", minimum=1)
        if self.engine == "rate" and spec.plasticity.enabled and spec.kc.wiring != "dense":
            raise ValueError(f"circuit {spec.name!r} has plastic {spec.kc.wiring} wiring; the rate engine's "
                             f"Krotov–Hopfield rule learns dense synapses: expected kc.wiring = 'dense' or "
                             f"plasticity.enabled = false")
        if self.engine == "spiking":
            brian2_device(self.device)
        else:
            resolve_device(self.device)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # PN inputs are firing rates or intensities, never negative
        return tags

    def _n_bits(self) -> int:
        """Width of the code: the circuit's kc.n Kenyon cells."""
        return self.weights_.shape[0]

    @property
    def fixed_weight(self) -> bool:  # a property, described without Returns; numpydoc ignore=RT01
        """Whether every code has exactly k active KCs: True for ``readout='top_k'``, False for ``'apl'``."""
        return self.readout == "top_k"

    # --- fitting -------------------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> CircuitHash:
        """Learn the circuit's synapses from X (or draw its wiring), then set the APL gain; y is ignored.

        Without plasticity the wiring is drawn from the seed; with it, the rate engine learns dense synapses by
        the Krotov–Hopfield rule (eq. 1–2, p = 2, Δ = ``plasticity.delta``, Appendix D's schedule) from the spec's
        N(0, 1) wiring, and the spiking engine presents each training stimulus once to the plastic circuit. With
        ``readout='apl'`` and k, the APL gain is then set by bisection to the smallest gain at which at most k KCs
        respond on average, on at most ``CALIBRATION_STIMULI`` training stimuli.

        Parameters
        ----------
        X : array-like of shape (n_samples, inputs.n)
            Training stimuli, one feature per PN, read as the spec's input source reads them (intensities in
            [0, 1] for image circuits, rates in Hz otherwise).
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        self : CircuitHash
            The fitted hasher.

        Raises
        ------
        ValueError
            If a parameter is outside its range or unknown (the engine, the readout, the device, k ≥ kc.n,
            ``readout='top_k'`` without k, k with the spiking engine's ``'apl'`` readout), if X does not have
            ``inputs.n`` columns, holds NaN, infinite or negative rates or images outside [0, 1], if the rate engine
            would learn sparse plastic wiring, or if k responding KCs cannot be reached by any APL gain.
        CircuitSpecError
            If the circuit cannot be loaded or an override is unknown or out of range (a ``ValueError``).
        TypeError
            If ``overrides`` is not a dict, ``circuit`` is of another type, X is not numeric, or an integer
            parameter is not an integer.
        MemoryError
            If learning in one spiking run may need more than half the available memory (lower ``max_train``).
        """
        X = check_features(X, "X")
        self._validate_params(X.shape[1])
        for name in self.fitted_attributes():
            delattr(self, name)
        self.__dict__.pop("_encoder", None)  # a spiking encoder built for the previous weights
        spec = self._spec()
        rates = feature_rates(spec, X)
        train = rates
        if self.max_train is not None and self.max_train < len(rates):
            rows = np.sort(np.random.default_rng(self.seed).choice(len(rates), size=self.max_train, replace=False))
            train = rates[rows]
        if not spec.plasticity.enabled:
            weights = random_wiring(spec)
        elif self.engine == "rate":
            weights = self._learn_rate(spec, train)
        else:
            weights = self._learn_spiking(spec, train)
        self.spec_ = spec.to_dict()
        self.weights_ = torch.as_tensor(weights, dtype=torch.float64, device=self.torch_device)
        self.apl_gain_mv_ = spec.apl.gain_mv
        if self.readout == "apl" and self.k is not None:
            self.apl_gain_mv_ = self._calibrated_gain(spec, weights, train)
        self.n_features_in_ = X.shape[1]
        return self

    def _learn_rate(self, spec: CircuitSpec, rates: np.ndarray) -> np.ndarray:
        """The Krotov–Hopfield rule (eq. 1–2, p = 2, Δ = plasticity.delta, Appendix D's schedule) on the PN rates,
        from the spec's N(0, 1) wiring (the sampler draws train_synapses' start from the same seed)."""
        X = torch.as_tensor(rates, dtype=torch.float32, device=self.torch_device)
        rule = PlasticityRule(p=2.0, delta=spec.plasticity.delta, rank=2)
        schedule = TrainingSchedule(batch_size=min(TrainingSchedule.batch_size, len(rates)))
        W, self.training_log_ = train_synapses(X, spec.kc.n, rule, schedule, seed=spec.simulation.seed,
                                               progress=self.progress, desc=f"{spec.name}: learning synapses")
        return W.double().cpu().numpy()

    def _learn_spiking(self, spec: CircuitSpec, rates: np.ndarray) -> np.ndarray:
        """One presentation of each training stimulus to the plastic spiking circuit; its weights at the end."""
        need, have = run_memory_bytes(spec, len(rates)), SPIKING_MEMORY_FRACTION * available_memory_bytes()
        if need > have:
            raise MemoryError(f"learning from {len(rates)} stimuli in one spiking run may need {need / 2**30:.3g} GiB, "
                              f"but {have / 2**30:.3g} GiB are available; expected max_train small enough to fit")
        circuit = SpikingCircuit(spec, len(rates), device=brian2_device(self.device))
        result = circuit.run(rates, progress=self.progress)
        self.training_seconds_ = {"build": result.build_seconds, "simulate": result.run_seconds}
        return result.weights

    def _calibrated_gain(self, spec: CircuitSpec, weights: np.ndarray, rates: np.ndarray) -> float:
        """The smallest APL gain (mV) at which at most k KCs respond on average (bisection; the count falls with the
        gain), on at most CALIBRATION_STIMULI training stimuli."""
        if len(rates) > CALIBRATION_STIMULI:
            rows = np.random.default_rng(self.seed).choice(len(rates), size=CALIBRATION_STIMULI, replace=False)
            rates = rates[np.sort(rows)]
        circuit = RateCircuit(spec, weights, device=self.torch_device, as_tensor=True)
        v = circuit.depolarisation(rates)

        def mean_responding(gain: float) -> float:
            return float((apl_steady_state(v, circuit.params, gain, circuit.apl_weights)[0] > 0)
                         .sum(dim=1).double().mean())

        at_zero = mean_responding(0.0)
        if at_zero < self.k:
            raise ValueError(f"k={self.k} KCs cannot respond on average: with no APL inhibition (gain 0) only "
                             f"{at_zero:.3g} of circuit {spec.name!r}'s KCs respond to the training stimuli; expected "
                             f"k <= {at_zero:.3g}, or a stronger drive (kc.epsp_mv) or a lower kc.threshold_mv")
        low, high = 0.0, max(spec.apl.gain_mv, 1.0)
        for _ in range(CALIBRATION_STEPS):  # double the gain until at most k respond
            if mean_responding(high) <= self.k:
                break
            low, high = high, 2 * high
        else:
            raise ValueError(f"k={self.k} cannot be reached: at an APL gain of {high:.3g} mV still "
                             f"{mean_responding(high):.3g} KCs respond on average (KCs with equal drive respond "
                             f"together); expected a larger k or the readout 'top_k'")
        for _ in range(CALIBRATION_STEPS):
            middle = (low + high) / 2
            low, high = (middle, high) if mean_responding(middle) > self.k else (low, middle)
        return high

    # --- encoding ------------------------------------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Boolean KC codes (n_samples, kc.n) of X: exactly k active per row (top_k) or the responding KCs (apl).

        The spiking engine simulates the non-plastic circuit on blocks of stimuli, reusing one build for later
        calls with the same block size.

        Parameters
        ----------
        X : array-like of shape (n_samples, inputs.n)
            Stimuli, read as in ``fit``.

        Returns
        -------
        codes : ndarray of shape (n_samples, kc.n), dtype bool
            For ``readout='top_k'`` the k most driven KCs of each stimulus (rate: depolarisation; spiking: spike
            counts); for ``'apl'`` the KCs that respond under APL feedback at ``apl_gain_mv_`` (rate: a positive
            steady-state rate; spiking: at least ``simulation.min_spikes`` spikes).

        Raises
        ------
        NotFittedError
            If the hasher is not fitted.
        ValueError
            If X does not have ``inputs.n`` columns, is not 2-D, is empty, or holds NaN, infinite or negative
            rates, or images outside [0, 1].
        TypeError
            If X is not numeric or is a scipy sparse matrix.
        """
        self._check_fitted("transform")
        spec = CircuitSpec.from_dict(self.spec_)
        rates = feature_rates(spec, check_features(X, "X", n_features=self.n_features_in_, expected_by=type(self).__name__))
        if self.engine == "rate":
            circuit = RateCircuit(spec, self.weights_, device=self.torch_device)
            if self.readout == "top_k":
                return circuit.top_k(rates, self.k)
            return circuit.responding(rates, self.apl_gain_mv_)
        return self._encode_spiking(spec, rates)

    def _encode_spiking(self, spec: CircuitSpec, rates: np.ndarray) -> np.ndarray:
        """Spike-count codes from one build of the non-plastic circuit, run on blocks of stimuli (the last one padded
        with silent stimuli); a later transform with the same block size reuses the build."""
        spec = spec.replace(**{"plasticity.enabled": False})
        block = run_block_size(spec, len(rates), int(SPIKING_MEMORY_FRACTION * available_memory_bytes()))
        built = getattr(self, "_encoder", None)
        if built is None or built.n_stimuli != block or not built.is_active():
            built = SpikingCircuit(spec, block, weights=self.weights_.cpu().numpy(), device=brian2_device(self.device))
            self._encoder = built
        codes = np.empty((len(rates), spec.kc.n), dtype=bool)
        for start in tqdm(range(0, len(rates), block), desc=f"{spec.name} (spiking encode)", unit="block",
                          disable=not self.progress):
            part = rates[start:start + block]
            padded = np.zeros((block, spec.inputs.n)) if len(part) < block else part
            padded[:len(part)] = part
            result = built.run(padded, apl_gain_mv=self.apl_gain_mv_)
            counts = result.counts[:len(part)]
            if self.readout == "top_k":
                codes[start:start + len(part)] = kwta(torch.from_numpy(counts.astype(np.float64)), self.k).numpy()
            else:
                codes[start:start + len(part)] = counts >= spec.simulation.min_spikes
        return codes
