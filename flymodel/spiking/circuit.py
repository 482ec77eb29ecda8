"""Build a spec's spiking circuit once on a Brian2 device and run it on many stimulus sets and parameter values.

In cpp_standalone (and cuda_standalone) the binary is compiled once; each run passes the stimuli (a TimedArray),
the APL gain and the weights as run_args, so sweeps never recompile. On the numpy/Cython runtime the network is
restored to its initial state before each run. Every device returns the same SpikingResult.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.wiring import check_weights, random_wiring
from flymodel.spiking.devices import STANDALONE, activate_device, current_generation
from flymodel.spiking.network import Network, build_network
from flymodel.validation import check_features

#: Spikes per second of presentation for a KC to count as responding: drosophila_mb's 8 in its 1 s odour pulse.
SPIKES_PER_SECOND = 8


def min_spikes_for(presentation_ms: float) -> int:
    """Spikes needed to count as responding in a presentation: SPIKES_PER_SECOND per second of it, at least 1.

    Parameters
    ----------
    presentation_ms : float
        Presentation time (ms).

    Returns
    -------
    int
        ``max(1, round(SPIKES_PER_SECOND * presentation_ms / 1000))``.

    Examples
    --------
    >>> from flymodel.spiking.circuit import min_spikes_for
    >>> min_spikes_for(1000.0), min_spikes_for(200.0), min_spikes_for(50.0)
    (8, 2, 1)
    """
    return max(1, round(SPIKES_PER_SECOND * presentation_ms / 1000))


#: C++ progress report of standalone runs: one line per report period, parsed by the progress bar.
_REPORT = 'std::cout << "flymodel-progress " << completed << std::endl << std::flush;'
_PROGRESS = re.compile(r"flymodel-progress ([0-9.eE+-]+)")


@dataclass(eq=False)
class SpikingResult:
    """What a spiking run produced, the same on every device: spikes, counts per stimulus, APL trace, weights.

    Times are seconds from the start of the run; stimulus i is presented from ``i * presentation_ms``.

    Attributes
    ----------
    spec : CircuitSpec
        The circuit that ran.
    device : str
        The Brian2 device it ran on.
    stimulus_names : tuple of str
        One name per stimulus.
    counts : ndarray of shape (n_stimuli, n_kc), dtype int32
        KC spikes per presentation.
    kc_spike_index : ndarray of shape (n_spikes,), dtype int64
        The KC of every spike.
    kc_spike_time_s : ndarray of shape (n_spikes,), dtype float64
        The time of every KC spike (s).
    apl_time_s : ndarray of shape (n_samples,), dtype float64
        Sample times of the APL trace (s), one per ms.
    apl_activity : ndarray of shape (n_samples,), dtype float64
        APL activity at those times.
    weights : ndarray of shape (n_kc, n_pn)
        PN→KC weights at the end of the run (changed by plasticity, if enabled).
    apl_gain_mv : float
        The APL gain of the run (mV).
    run_seconds : float
        Wall-clock time of the run (s).
    build_seconds : float
        Compiling the standalone project (s; 0 on the runtime devices).
    pn_spike_index : ndarray of shape (n_pn_spikes,), dtype int64, or None, default None
        The PN of every PN spike, if PN spikes were recorded.
    pn_spike_time_s : ndarray of shape (n_pn_spikes,), dtype float64, or None, default None
        The time of every PN spike (s), if recorded.
    extra : dict, default {}
        Further entries to merge into ``summary``.

    See Also
    --------
    simulate : Builds a circuit and runs it once.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> spec = load_circuit("drosophila_mb").replace(
    ...     **{"kc.n": 100, "simulation.presentation_ms": 100.0, "simulation.min_spikes": 2})
    >>> rates = np.random.default_rng(0).uniform(0.0, 100.0, size=(3, 24))
    >>> from flymodel.spiking import simulate
    >>> result = simulate(spec, rates, names=("a", "b", "c"))
    >>> result.counts.shape, result.codes.shape, result.stimulus_names
    ((3, 100), (3, 100), ('a', 'b', 'c'))
    >>> bool(np.array_equal(result.codes, result.counts >= 2))
    True
    >>> result.apl_time_s.shape, result.apl_activity.shape
    ((300,), (300,))
    >>> bool(result.kc_spike_time_s.max() < 0.3), len(result.kc_spike_index) == int(result.counts.sum())
    (True, True)
    >>> record = result.summary(raster_stimuli=1)
    >>> record["stimuli"][0]["name"], record["raster"]["presentation_edges_s"]
    ('a', [0.0, 0.1])
    """

    spec: CircuitSpec
    device: str
    stimulus_names: tuple[str, ...]
    counts: np.ndarray  # (n_stimuli, n_kc) KC spikes per presentation
    kc_spike_index: np.ndarray
    kc_spike_time_s: np.ndarray
    apl_time_s: np.ndarray
    apl_activity: np.ndarray
    weights: np.ndarray  # (n_kc, n_pn) PN→KC weights at the end of the run
    apl_gain_mv: float
    run_seconds: float
    build_seconds: float  # compiling the standalone project (0 on the runtime devices)
    pn_spike_index: np.ndarray | None = None
    pn_spike_time_s: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> np.ndarray:  # a property, described without Returns: numpydoc ignore=RT01
        """The KCs that fired at least ``[simulation] min_spikes`` spikes to each stimulus.

        A boolean ndarray of shape (n_stimuli, n_kc).
        """
        return self.counts >= self.spec.simulation.min_spikes

    def fraction_responding(self) -> np.ndarray:
        """Population sparseness per stimulus: the fraction of KCs that responded.

        Returns
        -------
        ndarray of shape (n_stimuli,), dtype float64
            The mean of ``codes`` over the KCs.
        """
        return self.codes.mean(axis=1)

    def summary(self, raster_stimuli: int = 5) -> dict[str, Any]:
        """JSON-ready record: settings, timings, responding KCs per stimulus, and the spikes of the first presentations.

        Per stimulus the responding KCs and their spike counts and the mean APL activity, and the spikes and APL trace
        of the first raster_stimuli presentations (to draw the raster).

        Parameters
        ----------
        raster_stimuli : int, default 5
            How many presentations, from the first, the raster holds.

        Returns
        -------
        dict
            ``circuit`` (the spec's ``to_dict``), ``device``, ``apl_gain_mv``, ``build_seconds``, ``run_seconds``,
            ``mean_fraction_responding``, ``stimuli`` (one dictionary per stimulus: ``name``,
            ``fraction_responding``, ``mean_apl_activity``, ``responding_kcs``, ``spike_counts``), ``raster`` (the
            lists ``stimuli`` and ``presentation_edges_s``, and the arrays ``kc``, ``time_s``, ``apl_time_s`` and
            ``apl_activity``, which ``flymodel.io.to_json`` writes), ``mean_synapse_norm`` (the mean norm of the
            KCs' weight vectors), and the entries of ``extra``.
        """
        fractions = self.fraction_responding()
        presentation = self.spec.simulation.presentation_ms * 1e-3
        shown = min(raster_stimuli, len(self.stimulus_names))
        spike_presentation = presentation_index(self.kc_spike_time_s, self.spec)
        apl_presentation = presentation_index(self.apl_time_s, self.spec)
        in_raster, apl_window = spike_presentation < shown, apl_presentation < shown
        which = np.minimum(apl_presentation, len(self.stimulus_names) - 1)
        apl_means = np.bincount(which, weights=self.apl_activity, minlength=len(self.stimulus_names)) / np.maximum(
            np.bincount(which, minlength=len(self.stimulus_names)), 1)
        return {
            "circuit": self.spec.to_dict(), "device": self.device, "apl_gain_mv": self.apl_gain_mv,
            "build_seconds": self.build_seconds, "run_seconds": self.run_seconds,
            "mean_fraction_responding": float(fractions.mean()),
            "stimuli": [{"name": name, "fraction_responding": float(f), "mean_apl_activity": float(a),
                         "responding_kcs": np.flatnonzero(code).tolist(), "spike_counts": row[code].tolist()}
                        for name, f, a, code, row in zip(self.stimulus_names, fractions, apl_means, self.codes,
                                                         self.counts)],
            "raster": {"stimuli": list(self.stimulus_names[:shown]),
                       "presentation_edges_s": (np.arange(shown + 1) * presentation).tolist(),
                       "kc": self.kc_spike_index[in_raster], "time_s": self.kc_spike_time_s[in_raster],
                       "apl_time_s": self.apl_time_s[apl_window], "apl_activity": self.apl_activity[apl_window]},
            "mean_synapse_norm": float(np.linalg.norm(self.weights, axis=1).mean()),
            **self.extra,
        }


class SpikingCircuit:
    """The spec's network, built once for n_stimuli presentations on one device; ``run`` presents the stimuli.

    Sparse wiring connects only the non-zero entries of the weights; later runs may change their values but not the
    pattern. Brian2 keeps one device per process: building another circuit invalidates this one (``is_active``).
    In cpp_standalone and cuda_standalone the project is compiled here, once; on the numpy and Cython runtimes the
    network is stored and restored to its initial state before each run, and the first run generates its code.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit.
    n_stimuli : int
        Presentations per run, at least 1.
    weights : array-like of shape (n_kc, n_pn), optional
        PN→KC weights; default the spec's random wiring (``flymodel.circuit.wiring.random_wiring``).
    device : {"numpy", "cython", "cpp_standalone", "cuda_standalone"}, default "numpy"
        The Brian2 device (``flymodel.spiking.DEVICES``).
    directory : str or Path or None, default None
        Standalone project folder; None makes a new temporary folder (unused by the runtime devices).
    record_pn : bool, default False
        Record PN spikes too (``SpikingResult.pn_spike_index`` and ``pn_spike_time_s``).
    cuda_codegen_only : bool, default False
        For cuda_standalone, generate the CUDA project without a GPU or CUDA toolkit; such a circuit cannot run.

    Attributes
    ----------
    spec : CircuitSpec
        The circuit.
    n_stimuli : int
        Presentations per run.
    device : str
        The Brian2 device.
    codegen_only : bool
        Whether the CUDA project was only generated.
    weights : ndarray of shape (n_kc, n_pn), dtype float64
        The PN→KC weights of each run unless ``run`` is given others.
    directory : Path or None
        The standalone project folder (None on the runtime devices).
    duration : float
        The run's duration (s): n_stimuli presentations.
    network : Network
        The Brian2 objects (``flymodel.spiking.network.Network``).
    build_seconds : float
        Time spent compiling the standalone project (s; 0 on the runtime devices).

    Raises
    ------
    ValueError
        If ``n_stimuli`` is not an integer >= 1, ``device`` is not known, or ``weights`` do not fit the spec.

    See Also
    --------
    simulate : Build and run once.
    flymodel.circuit.RateCircuit : The rate engine of the same spec and weights.

    Examples
    --------
    One circuit of 100 KCs, built once and run with the APL blocked and then at the spec's gain:

    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> spec = load_circuit("drosophila_mb").replace(
    ...     **{"kc.n": 100, "simulation.presentation_ms": 100.0, "simulation.min_spikes": 2})
    >>> rates = np.random.default_rng(0).uniform(0.0, 100.0, size=(3, 24))
    >>> from flymodel.spiking import SpikingCircuit
    >>> circuit = SpikingCircuit(spec, n_stimuli=3, device="numpy")
    >>> circuit.weights.shape, circuit.is_active()
    ((100, 24), True)
    >>> blocked = circuit.run(rates, apl_gain_mv=0.0)
    >>> inhibited = circuit.run(rates)
    >>> inhibited.apl_gain_mv, inhibited.codes.shape
    (0.3, (3, 100))
    >>> bool(np.all(blocked.codes.sum(axis=1) > inhibited.codes.sum(axis=1)))
    True
    """

    def __init__(self, spec: CircuitSpec, n_stimuli: int, weights: Any = None, device: str = "numpy",
                 directory: str | Path | None = None, record_pn: bool = False, cuda_codegen_only: bool = False):
        if not isinstance(n_stimuli, (int, np.integer)) or isinstance(n_stimuli, bool) or n_stimuli < 1:
            raise ValueError(f"n_stimuli={n_stimuli!r} must be an integer >= 1")
        self.spec, self.n_stimuli, self.device = spec, int(n_stimuli), device
        self.codegen_only = cuda_codegen_only
        self.weights = random_wiring(spec) if weights is None else check_weights(weights, spec)
        if device in STANDALONE:
            self.directory = Path(directory or tempfile.mkdtemp(prefix=f"flymodel_{spec.name}_"))
        else:
            self.directory = None
        self._generation = activate_device(device, self.directory, cuda_codegen_only)
        import brian2 as b2

        b2.seed(spec.simulation.seed)
        self.duration = spec.simulation.presentation_ms * 1e-3 * self.n_stimuli
        self.network: Network = build_network(spec, np.zeros((self.n_stimuli, spec.inputs.n)), self.weights,
                                              record_pn=record_pn)
        started = time.perf_counter()
        if device in STANDALONE:
            self.network.net.run(self.duration * b2.second, report=_REPORT, report_period=0.5 * b2.second, namespace={})
            b2.device.build(directory=str(self.directory), compile=not cuda_codegen_only, run=False,
                            with_output=False)
            self.build_seconds = time.perf_counter() - started
        else:  # the runtime generates its code during the first run, which therefore takes longer
            self.network.net.store("initial")
            self.build_seconds = 0.0

    def is_active(self) -> bool:
        """Whether this circuit can still run: no other circuit has been built since (one Brian2 device per process).

        Returns
        -------
        bool
            True if no device has been activated since this circuit was built.
        """
        return current_generation() == self._generation

    def run(self, rates_hz: Any, apl_gain_mv: float | None = None, weights: Any = None,
            names: tuple[str, ...] | None = None, progress: bool = False) -> SpikingResult:
        """Present each row of rates_hz for presentation_ms, one after the other; returns the spikes and traces.

        Each presentation starts from rest (KC potentials, synaptic currents, traces and the APL are reset); the
        random numbers restart from ``[simulation] seed`` at every run, so a run is reproducible.

        Parameters
        ----------
        rates_hz : array-like of shape (n_stimuli, n_pn)
            PN firing rates (Hz, >= 0), one row per presentation; exactly ``n_stimuli`` rows.
        apl_gain_mv : float or None, default None
            The APL gain (mV) of this run; None takes the spec's ``[apl] gain_mv``.
        weights : array-like of shape (n_kc, n_pn), optional
            PN→KC weights of this run; default the circuit's ``weights``. With sparse wiring they must be zero
            wherever the circuit has no synapse.
        names : tuple of str or None, default None
            One name per stimulus; default ``"stimulus 0"``, ``"stimulus 1"``, ...
        progress : bool, default False
            Show a progress bar.

        Returns
        -------
        SpikingResult
            The spikes, counts, APL trace and final weights of the run.

        Raises
        ------
        RuntimeError
            If another circuit was built since this one, or this circuit was only generated (``cuda_codegen_only``).
        ValueError
            If ``rates_hz`` does not have n_stimuli rows and ``[inputs] n`` columns, holds a negative or non-finite
            rate, the gain is negative or not finite, the weights do not fit the circuit, or ``names`` has the wrong
            length.
        TypeError
            If ``rates_hz`` is not numeric.
        """
        if not self.is_active():
            raise RuntimeError("another circuit was built since this one (Brian2 has one device per process); "
                               "build this circuit again")
        if self.codegen_only:
            raise RuntimeError(f"this circuit was generated without a GPU (cuda_codegen_only); its code is in "
                               f"{self.directory} and cannot be run here")
        rates = check_features(rates_hz, "rates_hz", n_features=self.spec.inputs.n,
                               expected_by=f"circuit {self.spec.name!r} ([inputs] n)").astype(float)
        if rates.shape[0] != self.n_stimuli:
            raise ValueError(f"rates_hz has {rates.shape[0]} stimuli; this circuit was built for {self.n_stimuli}")
        if rates.min() < 0:
            raise ValueError(f"rates_hz holds a negative rate ({rates.min()} Hz); firing rates must be >= 0")
        gain = self.spec.apl.gain_mv if apl_gain_mv is None else float(apl_gain_mv)
        if not (np.isfinite(gain) and gain >= 0):
            raise ValueError(f"apl_gain_mv={apl_gain_mv} must be a finite gain >= 0 mV")
        w = self.weights if weights is None else check_weights(weights, self.spec)
        net = self.network
        if weights is not None and self.spec.kc.wiring != "dense":
            outside = np.ones(w.shape, bool)
            outside[net.post, net.pre] = False
            if np.any(w[outside] != 0):
                raise ValueError("weights are non-zero where this sparse circuit has no synapse; build a circuit "
                                 "with these weights instead")
        names = tuple(names) if names is not None else tuple(f"stimulus {i}" for i in range(self.n_stimuli))
        if len(names) != self.n_stimuli:
            raise ValueError(f"names has {len(names)} entries for {self.n_stimuli} stimuli")
        started = time.perf_counter()
        if self.device in STANDALONE:
            self._run_standalone(rates, gain, w, progress)
        else:
            self._run_runtime(rates, gain, w, progress)
        elapsed = time.perf_counter() - started
        return self._collect(names, gain, elapsed)

    def _run_runtime(self, rates: np.ndarray, gain: float, w: np.ndarray, progress: bool) -> None:
        import brian2 as b2

        net = self.network
        net.net.restore("initial")
        b2.seed(self.spec.simulation.seed)
        stimulus = b2.TimedArray(rates * b2.Hz, dt=self.spec.simulation.presentation_ms * b2.ms, name="stimulus")
        net.pn.namespace["stimulus"] = stimulus
        net.kc.apl_gain = gain * b2.mV
        net.pn_kc.w = w[net.post, net.pre]
        with tqdm(total=self.n_stimuli, desc=f"{self.spec.name} ({self.device})", unit="stimulus",
                  disable=not progress) as bar:
            def report(elapsed: Any, completed: float, start: Any, duration: Any) -> None:
                bar.update(int(completed * self.n_stimuli) - bar.n)

            net.net.run(self.duration * b2.second, report=report if progress else None, report_period=0.5 * b2.second,
                        namespace={})

    def _run_standalone(self, rates: np.ndarray, gain: float, w: np.ndarray, progress: bool) -> None:
        import brian2 as b2

        net = self.network
        run_args = {net.stimulus: rates * b2.Hz, net.kc.apl_gain: gain * b2.mV, net.pn_kc.w: w[net.post, net.pre]}
        stdout = self.directory / "results" / "stdout.txt"
        stdout.parent.mkdir(parents=True, exist_ok=True)
        stdout.write_text("")
        done = threading.Event()
        with tqdm(total=self.n_stimuli, desc=f"{self.spec.name} ({self.device})", unit="stimulus",
                  disable=not progress) as bar:
            def follow() -> None:
                while not done.wait(0.2):
                    found = _PROGRESS.findall(stdout.read_text()) if stdout.exists() else []
                    if found:
                        bar.update(int(float(found[-1]) * self.n_stimuli) - bar.n)

            watcher = threading.Thread(target=follow, daemon=True)
            watcher.start()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    b2.device.run(directory=str(self.directory), with_output=False, run_args=run_args)
            finally:
                done.set()
                watcher.join()
            bar.update(self.n_stimuli - bar.n)

    def _collect(self, names: tuple[str, ...], gain: float, elapsed: float) -> SpikingResult:
        net = self.network
        # Copies: on the runtime devices Brian2's monitor buffers are reused by the next run.
        spike_times = np.array(net.kc_spikes.t[:], dtype=float)
        index = np.array(net.kc_spikes.i[:], dtype=np.int64)
        stimulus = presentation_index(spike_times, self.spec)
        counts = np.zeros((self.n_stimuli, self.spec.kc.n), dtype=np.int32)
        np.add.at(counts, (np.minimum(stimulus, self.n_stimuli - 1), index), 1)
        weights = np.zeros_like(self.weights)
        weights[net.post, net.pre] = np.asarray(net.pn_kc.w[:])
        pn_i = pn_t = None
        if net.pn_spikes is not None:
            pn_i, pn_t = np.array(net.pn_spikes.i[:], dtype=np.int64), np.array(net.pn_spikes.t[:], dtype=float)
        return SpikingResult(
            spec=self.spec, device=self.device, stimulus_names=names, counts=counts, kc_spike_index=index,
            kc_spike_time_s=spike_times, apl_time_s=np.array(net.apl_trace.t[:], dtype=float),
            apl_activity=np.array(net.apl_trace.a[0], dtype=float), weights=weights, apl_gain_mv=gain, run_seconds=elapsed,
            build_seconds=self.build_seconds, pn_spike_index=pn_i, pn_spike_time_s=pn_t,
        )


def presentation_index(times_s: np.ndarray, spec: CircuitSpec) -> np.ndarray:
    """Return the presentation each time of a run falls in, counted in whole time steps.

    Times of spikes and monitor samples are multiples of ``dt``, so they are rounded to steps first: dividing seconds
    by the presentation time directly puts a sample on a boundary (0.6 s / 0.2 s = 2.9999...) into the previous
    presentation.

    Parameters
    ----------
    times_s : ndarray of shape (n,), dtype float64
        Times in seconds from the start of the run.
    spec : CircuitSpec
        The circuit, for ``simulation.dt_ms`` and ``simulation.presentation_ms``.

    Returns
    -------
    ndarray of shape (n,), dtype int64
        The 0-based presentation of each time.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.spiking.circuit import presentation_index
    >>> spec = load_circuit("drosophila_mb").replace(**{"simulation.presentation_ms": 200.0})
    >>> presentation_index(np.array([0.0, 0.1999, 0.6, 3 * 0.2]), spec).tolist()
    [0, 0, 3, 3]
    """
    sim = spec.simulation
    steps = np.rint(np.asarray(times_s, dtype=float) / (sim.dt_ms * 1e-3)).astype(np.int64)
    return steps // int(round(sim.presentation_ms / sim.dt_ms))


def run_memory_bytes(spec: CircuitSpec, n_stimuli: int) -> int:
    """An upper bound on the memory (bytes) that a run of n_stimuli presentations holds.

    The weights (three copies: ours, Brian2's, the result's), the stimulus table, and every KC firing at its maximum
    rate, 1 / max(refractory, dt), with 16 bytes per recorded spike (index and time), plus the counts.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit.
    n_stimuli : int
        Presentations in the run.

    Returns
    -------
    int
        The bound, in bytes.

    Examples
    --------
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.spiking.circuit import run_memory_bytes
    >>> round(run_memory_bytes(load_circuit("drosophila_mb"), 1) / 2**20, 1)
    16.4
    """
    kc, sim = spec.kc, spec.simulation
    spikes_per_kc = int(np.ceil(sim.presentation_ms / max(kc.refractory_ms, sim.dt_ms)))
    per_stimulus = 8 * 2 * spec.inputs.n + 16 * kc.n * spikes_per_kc + 4 * kc.n + 8 * int(sim.presentation_ms)
    return 3 * 8 * kc.n * spec.inputs.n + n_stimuli * per_stimulus


def available_memory_bytes() -> int:
    """Memory the system can still give this process (Linux MemAvailable; else the physical memory).

    Returns
    -------
    int
        Available memory, in bytes.
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def run_block_size(spec: CircuitSpec, n_stimuli: int, memory_bytes: int, most: int = 1000) -> int:
    """Stimuli per run so that run_memory_bytes stays within memory_bytes (at most ``most``).

    Parameters
    ----------
    spec : CircuitSpec
        The circuit.
    n_stimuli : int
        Stimuli to present in all.
    memory_bytes : int
        Memory a run may hold, e.g. ``available_memory_bytes()``.
    most : int, default 1000
        The largest block.

    Returns
    -------
    int
        Stimuli per run: at most ``n_stimuli`` and ``most``, at least 1.

    Raises
    ------
    MemoryError
        If not even one stimulus fits in ``memory_bytes``.

    Examples
    --------
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.spiking.circuit import run_block_size
    >>> run_block_size(load_circuit("drosophila_mb"), n_stimuli=110, memory_bytes=2**30)
    66
    """
    fixed = run_memory_bytes(spec, 0)
    per_stimulus = run_memory_bytes(spec, 1) - fixed
    fits = (memory_bytes - fixed) // per_stimulus
    if fits < 1:
        raise MemoryError(
            f"a spiking run of circuit {spec.name!r} (kc.n = {spec.kc.n}, inputs.n = {spec.inputs.n}, "
            f"presentation_ms = {spec.simulation.presentation_ms}, refractory_ms = {spec.kc.refractory_ms}) may need "
            f"{run_memory_bytes(spec, 1) / 2**30:.3g} GiB for a single stimulus, but {memory_bytes / 2**30:.3g} GiB are "
            f"available; expected a circuit whose run fits: fewer KCs or a shorter presentation, or the rate engine")
    return int(min(n_stimuli, most, fits))


def simulate(spec: CircuitSpec, rates_hz: Any, device: str = "numpy", apl_gain_mv: float | None = None,
             weights: Any = None, names: tuple[str, ...] | None = None, directory: str | Path | None = None,
             record_pn: bool = False, progress: bool = False) -> SpikingResult:
    """Build the spec's circuit on ``device`` and present every row of rates_hz once: one call, any device.

    ``SpikingCircuit(spec, len(rates_hz), ...).run(rates_hz, ...)``; build a ``SpikingCircuit`` instead to run the
    same circuit many times (a standalone project is then compiled once).

    Parameters
    ----------
    spec : CircuitSpec
        The circuit.
    rates_hz : array-like of shape (n_stimuli, n_pn)
        PN firing rates (Hz, >= 0), one row per presentation.
    device : {"numpy", "cython", "cpp_standalone", "cuda_standalone"}, default "numpy"
        The Brian2 device.
    apl_gain_mv : float or None, default None
        The APL gain (mV); None takes the spec's ``[apl] gain_mv``.
    weights : array-like of shape (n_kc, n_pn), optional
        PN→KC weights; default the spec's random wiring.
    names : tuple of str or None, default None
        One name per stimulus; default ``"stimulus 0"``, ``"stimulus 1"``, ...
    directory : str or Path or None, default None
        Standalone project folder; None makes a new temporary folder.
    record_pn : bool, default False
        Record PN spikes too.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    SpikingResult
        The spikes, counts, APL trace and final weights of the run.

    Raises
    ------
    ValueError
        If ``rates_hz`` does not have ``[inputs] n`` columns or holds a negative or non-finite rate, the device is not
        known, the gain is negative, or the weights or names do not fit.
    TypeError
        If ``rates_hz`` is not numeric.

    See Also
    --------
    SpikingCircuit : Build once, run many times.

    Examples
    --------
    Three stimuli of random PN rates, 100 ms each, to 100 KCs on the numpy runtime:

    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> spec = load_circuit("drosophila_mb").replace(
    ...     **{"kc.n": 100, "simulation.presentation_ms": 100.0, "simulation.min_spikes": 2})
    >>> rates = np.random.default_rng(0).uniform(0.0, 100.0, size=(3, 24))
    >>> from flymodel.spiking import simulate
    >>> result = simulate(spec, rates, device="numpy")
    >>> result.counts.shape, result.counts.dtype, result.device
    ((3, 100), dtype('int32'), 'numpy')
    >>> fractions = result.fraction_responding()
    >>> fractions.shape, bool(np.all((fractions > 0) & (fractions < 0.6)))
    ((3,), True)
    """
    rates = check_features(rates_hz, "rates_hz", n_features=spec.inputs.n,
                           expected_by=f"circuit {spec.name!r} ([inputs] n)")
    circuit = SpikingCircuit(spec, rates.shape[0], weights=weights, device=device, directory=directory,
                             record_pn=record_pn)
    return circuit.run(rates, apl_gain_mv=apl_gain_mv, names=names, progress=progress)
