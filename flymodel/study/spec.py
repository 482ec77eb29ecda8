"""StudySpec: a hypothesis study in a TOML file (analysis/studies/), validated with errors naming file and key.

A study crosses factors (any circuit key) as a full grid over seeds and engines, reads each circuit out (APL steady
state, top-k, or a per-KC threshold at a coding level), takes measures of the codes and tests contrasts against a
reference level. Every grid cell is a circuit spec validated by the circuit loader, so a factor value out of range
fails with the circuit's own message before anything runs.
"""

from __future__ import annotations

import itertools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flymodel.circuit.spec import CircuitSpec, CircuitSpecError, load_circuit

#: The studies shipped with flymodel; bare names such as "claws" are looked up there.
STUDIES_DIR = Path(__file__).resolve().parents[2] / "analysis" / "studies"
ENGINES = ("rate", "spiking")
READOUTS = ("apl", "top_k", "coding_level")
#: Measures of noise-free responses to every stimulus.
CODE_MEASURES = ("fraction_responding", "population_sparseness", "lifetime_sparseness", "mean_correlation", "dimension",
                 "dimension_binary")
#: Measures of noisy trials of odour pairs (they need trials > 0 and an odour source): d′ and held-out
#: nearest-centroid accuracy of the graded responses (rates, spike counts) and of the binary ones (responding KCs).
TRIAL_MEASURES = ("dprime_similar", "dprime_dissimilar", "accuracy_similar", "accuracy_dissimilar",
                  "dprime_binary_similar", "dprime_binary_dissimilar", "accuracy_graded_similar",
                  "accuracy_graded_dissimilar")
#: How the odours in pairs are chosen: by their fraction of responding KCs in the study's base circuit (rate engine,
#: seed 0), or by the expected fraction responding with APL blocked over every sparse wiring (drive_probability,
#: the inhibition analysis' rule).
PAIR_DRIVES = ("circuit", "blocked_wirings")
MEASURES = CODE_MEASURES + TRIAL_MEASURES
TOP_KEYS = ("name", "description", "circuit", "engines", "seeds", "stimuli", "overrides", "factors", "readout",
            "measures", "contrasts", "spiking")


class StudySpecError(ValueError):
    """A study file is unreadable, or a key in it is unknown, missing or out of range.

    The message starts with the study file and names the key, the value found and the value expected; a circuit
    error (a factor level or an override out of range) is wrapped with the circuit's own message. A subclass of
    ``ValueError``, so callers can catch either.

    See Also
    --------
    load_study : Reads and validates a study file, raising this error.

    Examples
    --------
    >>> from flymodel.study import StudySpecError, load_study
    >>> load_study("claws", {"seeds": 0})
    Traceback (most recent call last):
        ...
    flymodel.study.spec.StudySpecError: /.../claws.toml: seeds = 0: expected a number of seeds >= 1, or a list of seeds

    A factor level is checked by the circuit validator, whose message names the circuit key and its range:

    >>> try:
    ...     load_study("claws", {"factors.kc.fan_in": [6, 30]})
    ... except ValueError as exc:
    ...     print(exc)
    /.../claws.toml: [factors] 'kc.fan_in': /.../drosophila_mb.toml: [kc] fan_in = 30:
    expected an integer in [1, 24] (the number of PNs)
    """


@dataclass(frozen=True)
class StudySpec:
    """A validated study: circuit, grid of factor levels, seeds, engines, stimuli, readout, measures, contrasts.

    Built by ``load_study`` from a TOML file, which validates every field; the fields are those of the file's keys.
    The study's grid is every combination of factor levels (``cells``) crossed with every seed and engine; each grid
    cell is a circuit spec (``cell_spec``). The fields are also the constructor's arguments.

    Attributes
    ----------
    name : str
        The study's name (``name`` in the file), also the name in its results.
    circuit : CircuitSpec
        The base circuit (``circuit`` in the file, a circuit name or ``.toml`` path), with ``[overrides]`` applied.
    factors : dict of str to tuple
        The ``[factors]`` table: each dotted circuit key (e.g. ``"kc.fan_in"``) with its levels, in file order.
    seeds : tuple of int
        The seeds, distinct integers >= 0 (``seeds = n`` in the file gives ``0, ..., n - 1``).
    engines : tuple of {"rate", "spiking"}, default ("rate",)
        The engines each cell runs in.
    description : str, default ""
        A line that says what the study asks.
    trials : int, default 0
        Noisy trials per odour of the odour pairs (``[stimuli] trials``): 0 for noise-free responses only, else
        at least 2.
    noise_hz : float, default 0.0
        Standard deviation (Hz) of the Gaussian noise added to each PN's rate in every trial.
    pairs : int, default 8
        Similar odour pairs, and as many dissimilar ones, for the trial measures.
    pair_drive : {"circuit", "blocked_wirings"}, default "circuit"
        How the pairs' odours are chosen: by their fraction of responding KCs in the base circuit (rate engine,
        seed 0), or by their expected fraction responding with APL blocked over every sparse wiring (the inhibition
        analysis' rule).
    min_drive : float, default 0.02
        The least drive, a fraction of KCs in [0, 1), of an odour that can be in a pair.
    readout : {"apl", "top_k", "coding_level"}, default "apl"
        How KC responses become codes: the APL feedback's steady state, the ``k`` most depolarised KCs, or a per-KC
        threshold at the coding level ``coding_level`` (rate engine only).
    k : int or None, default None
        Active KCs per code for ``readout = "top_k"``; None for the other readouts.
    coding_level : float or None, default None
        The coding level f in (0, 1) for ``readout = "coding_level"``; None for the other readouts.
    measures : tuple of str, default CODE_MEASURES
        The measures taken of every task, among ``MEASURES``; those of ``TRIAL_MEASURES`` need ``trials >= 2`` and the
        ``hallem_carlson`` odour source.
    reference : dict, default {}
        The ``[contrasts] reference`` levels (factor to level): every other cell is compared with the cell that has
        these levels and the same other factors, paired over seeds.
    loss : tuple of str, default ()
        Two measures whose relative losses against the reference are compared (``[contrasts] loss``), or none.
    spiking_presentation_ms : float or None, default None
        The spiking engine's presentation time in ms, replacing the circuit's ``simulation.presentation_ms``;
        None keeps the circuit's.
    spiking_device : str, default "cpp_standalone"
        The Brian2 device of the spiking engine, one of flymodel.spiking.devices.DEVICES.
    source : str, default "<code>"
        The file the study was read from.
    fixed_shuffle : bool, default False
        True when ``kc.shuffle_seed`` is set in ``[overrides]``: every seed then keeps that shuffle.

    See Also
    --------
    load_study : Reads and validates a study file.
    run_study : Runs a study's tasks and summarises them.

    Examples
    --------
    >>> from flymodel.study import load_study
    >>> study = load_study("claws", {"seeds": 2, "factors.kc.fan_in": [2, 6]})
    >>> study.factors, study.seeds, study.engines
    ({'kc.fan_in': (2, 6)}, (0, 1), ('rate',))
    >>> study.readout, study.k, study.reference
    ('top_k', 100, {'kc.fan_in': 6})
    >>> study.cells()
    [{'kc.fan_in': 2}, {'kc.fan_in': 6}]
    >>> circuit = study.cell_spec({"kc.fan_in": 2}, seed=1)
    >>> circuit.kc.fan_in, circuit.kc.n, circuit.simulation.seed
    (2, 2000, 1)
    """

    name: str
    circuit: CircuitSpec
    factors: dict[str, tuple[Any, ...]]
    seeds: tuple[int, ...]
    engines: tuple[str, ...] = ("rate",)
    description: str = ""
    trials: int = 0
    noise_hz: float = 0.0
    pairs: int = 8
    pair_drive: str = "circuit"
    min_drive: float = 0.02
    readout: str = "apl"
    k: int | None = None
    coding_level: float | None = None
    measures: tuple[str, ...] = CODE_MEASURES
    reference: dict[str, Any] = field(default_factory=dict)
    loss: tuple[str, ...] = ()
    spiking_presentation_ms: float | None = None
    spiking_device: str = "cpp_standalone"
    source: str = "<code>"
    fixed_shuffle: bool = False  # kc.shuffle_seed set in [overrides]: every seed keeps that shuffle

    def cells(self) -> list[dict[str, Any]]:
        """Every combination of factor levels, in file order (the first factor varies slowest).

        Returns
        -------
        list of dict
            One dictionary per grid cell, mapping each factor's dotted key to its level; ``[{}]`` for a study
            without factors.
        """
        names = list(self.factors)
        return [dict(zip(names, values)) for values in itertools.product(*(self.factors[n] for n in names))]

    def cell_spec(self, cell: dict[str, Any], seed: int) -> CircuitSpec:
        """The circuit of one cell and seed, with the cell's levels and the seed applied.

        The seed drives the wiring, the spike trains and, for shuffled connectome wiring, the shuffle (unless
        ``kc.shuffle_seed`` is a factor or override).

        Parameters
        ----------
        cell : dict
            One grid cell, as ``cells`` gives it: dotted circuit keys and their levels.
        seed : int
            The seed, set as ``simulation.seed`` (and as ``kc.shuffle_seed`` for shuffled wiring).

        Returns
        -------
        CircuitSpec
            The validated circuit of that cell and seed.

        Raises
        ------
        CircuitSpecError
            If a key of ``cell`` is not a circuit key or its level is out of range.
        """
        spec = self.circuit.replace(**cell, **{"simulation.seed": seed})
        if spec.kc.wiring == "shuffled" and "kc.shuffle_seed" not in cell and not self.fixed_shuffle:
            spec = spec.replace(**{"kc.shuffle_seed": seed})
        return spec


def load_study(path_or_name: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> StudySpec:
    """Load and validate a study file; a bare name such as ``"claws"`` is read from analysis/studies/.

    Every key is checked, and every factor level is applied to the circuit and validated by the circuit loader,
    so a mistake fails here, naming the file and the key, before anything runs.

    Parameters
    ----------
    path_or_name : str or os.PathLike
        A ``.toml`` path, or the name of a study shipped in ``STUDIES_DIR``. A relative ``circuit = "x.toml"`` in
        the file is read from the study file's folder.
    overrides : dict or None, default None
        Top-level or dotted keys set as if written in the file, e.g. ``{"seeds": 3, "factors.kc.fan_in": [4, 6]}``;
        a dotted key whose first part is a table (``factors``, ``stimuli``, ``overrides``, ``readout``, ``measures``,
        ``contrasts``, ``spiking``) sets one key of that table.

    Returns
    -------
    StudySpec
        The validated study; its ``source`` is the file's path.

    Raises
    ------
    StudySpecError
        If the file does not exist (the message lists the shipped studies), is not valid TOML, or a key is
        unknown, missing, of the wrong type or out of range, including a circuit key or factor level that the
        circuit loader rejects.

    See Also
    --------
    run_study : Runs the study's tasks and summarises them.

    Examples
    --------
    A shipped study, made small with overrides:

    >>> from flymodel.study import load_study
    >>> study = load_study("claws", {"seeds": 2, "factors.kc.fan_in": [2, 6], "overrides": {"kc.n": 300}})
    >>> study.name, study.seeds, study.circuit.kc.n, len(study.cells())
    ('claws', (0, 1), 300, 2)

    A study file of one's own (a factor of the ``drosophila_mb`` circuit, two seeds, two measures):

    >>> import tempfile
    >>> from pathlib import Path
    >>> text = '''
    ... name = "fan_in"
    ... circuit = "drosophila_mb"
    ... seeds = 2
    ... [factors]
    ... "kc.fan_in" = [2, 6]
    ... [measures]
    ... list = ["fraction_responding", "dimension"]
    ... '''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "fan_in.toml"
    ...     _ = path.write_text(text)
    ...     study = load_study(path)
    >>> study.factors, study.readout, study.measures
    ({'kc.fan_in': (2, 6)}, 'apl', ('fraction_responding', 'dimension'))
    """
    path = Path(path_or_name)
    if path.suffix != ".toml" and not path.exists():
        path = STUDIES_DIR / f"{path.name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in STUDIES_DIR.glob("*.toml"))) or "none"
        raise StudySpecError(f"study file {path} does not exist; studies shipped in {STUDIES_DIR}: {known}")
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudySpecError(f"{path}: not valid TOML: {exc}") from None
    for key, value in (overrides or {}).items():
        section, dot, rest = key.partition(".")
        if dot and section in ("factors", "stimuli", "overrides", "readout", "measures", "contrasts", "spiking"):
            tables.setdefault(section, {})[rest] = value
        else:
            tables[key] = value
    return _from_tables(tables, str(path))


def _from_tables(t: dict[str, Any], where: str) -> StudySpec:
    def fail(key: str, value: Any, expected: str) -> StudySpecError:
        return StudySpecError(f"{where}: {key} = {value!r}: expected {expected}")

    unknown = sorted(set(t) - set(TOP_KEYS))
    if unknown:
        raise StudySpecError(f"{where}: unknown key {', '.join(map(repr, unknown))}; expected keys: {', '.join(TOP_KEYS)}")
    for key in ("name", "circuit"):
        if not isinstance(t.get(key), str):
            raise fail(key, t.get(key), "a string" + (" (a circuit name or .toml path)" if key == "circuit" else ""))
    tables = {}
    for key, allowed in (("stimuli", ("trials", "noise_hz", "pairs", "pair_drive", "min_drive")), ("overrides", None),
                         ("factors", None), ("readout", ("kind", "k", "f")), ("measures", ("list",)),
                         ("contrasts", ("reference", "loss")), ("spiking", ("presentation_ms", "device"))):
        value = t.get(key, {})
        if not isinstance(value, dict):
            raise fail(key, value, "a table")
        if allowed is not None and sorted(set(value) - set(allowed)):
            raise StudySpecError(f"{where}: [{key}] has unknown key {', '.join(map(repr, sorted(set(value) - set(allowed))))}; "
                                 f"expected keys: {', '.join(allowed)}")
        tables[key] = value
    try:
        circuit = load_circuit(t["circuit"] if Path(t["circuit"]).is_absolute() or not t["circuit"].endswith(".toml")
                               else Path(where).parent / t["circuit"])
        circuit = circuit.replace(**tables["overrides"]) if tables["overrides"] else circuit
    except CircuitSpecError as exc:
        raise StudySpecError(f"{where}: circuit: {exc}") from None
    engines = t.get("engines", ["rate"])
    if not (isinstance(engines, list) and engines and all(e in ENGINES for e in engines) and len(set(engines)) == len(engines)):
        raise fail("engines", engines, f"a non-empty list of distinct engines among {', '.join(ENGINES)}")
    seeds = t.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise fail("seeds", seeds, "a number of seeds >= 1, or a list of seeds")
        seeds = list(range(seeds))
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                      for s in seeds) and len(set(seeds)) == len(seeds)):
        raise fail("seeds", seeds, "a number of seeds >= 1, or a non-empty list of distinct integers >= 0")
    factors: dict[str, tuple[Any, ...]] = {}
    for key, levels in tables["factors"].items():
        if not (isinstance(levels, list) and levels):
            raise fail(f"[factors] {key!r}", levels, "a non-empty list of levels")
        if len(set(map(repr, levels))) != len(levels):
            raise fail(f"[factors] {key!r}", levels, "distinct levels")
        for level in levels:  # the circuit validator names the key, the value and the allowed range
            try:
                circuit.replace(**{key: level})
            except CircuitSpecError as exc:
                raise StudySpecError(f"{where}: [factors] {key!r}: {exc}") from None
        factors[key] = tuple(levels)
    stimuli = tables["stimuli"]
    trials = stimuli.get("trials", 0)
    if not (isinstance(trials, int) and not isinstance(trials, bool) and trials >= 0) or trials == 1:
        raise fail("[stimuli] trials", trials, "0 (noise-free responses only) or an integer >= 2")
    noise = stimuli.get("noise_hz", 0.0)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or noise < 0:
        raise fail("[stimuli] noise_hz", noise, "a standard deviation >= 0 Hz")
    pairs = stimuli.get("pairs", 8)
    if not (isinstance(pairs, int) and not isinstance(pairs, bool) and pairs >= 1):
        raise fail("[stimuli] pairs", pairs, "an integer >= 1 (similar and dissimilar odour pairs each)")
    pair_drive = stimuli.get("pair_drive", "circuit")
    if pair_drive not in PAIR_DRIVES:
        raise fail("[stimuli] pair_drive", pair_drive, f"one of {', '.join(PAIR_DRIVES)}")
    if pair_drive == "blocked_wirings" and circuit.kc.wiring != "sparse":
        raise fail("[stimuli] pair_drive", pair_drive, f"'circuit': 'blocked_wirings' enumerates sparse wirings, and "
                                                       f"[kc] wiring = {circuit.kc.wiring!r}")
    min_drive = stimuli.get("min_drive", 0.02)
    if isinstance(min_drive, bool) or not isinstance(min_drive, (int, float)) or not 0 <= min_drive < 1:
        raise fail("[stimuli] min_drive", min_drive, "a fraction of KCs in [0, 1)")
    readout = tables["readout"]
    kind = readout.get("kind", "apl")
    if kind not in READOUTS:
        raise fail("[readout] kind", kind, f"one of {', '.join(READOUTS)}")
    k, f = readout.get("k"), readout.get("f")
    if kind == "top_k":
        if not (isinstance(k, int) and not isinstance(k, bool) and k >= 1):
            raise fail("[readout] k", k, "an integer >= 1 (active KCs per code) for kind = 'top_k'")
    elif k is not None:
        raise fail("[readout] k", k, "no k unless kind = 'top_k'")
    if kind == "coding_level":
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1:
            raise fail("[readout] f", f, "a coding level in (0, 1) for kind = 'coding_level'")
        if "spiking" in engines:
            raise fail("engines", engines, "['rate']: a per-KC threshold at a coding level is a rate-model readout")
    elif f is not None:
        raise fail("[readout] f", f, "no f unless kind = 'coding_level'")
    measures = tables["measures"].get("list", list(CODE_MEASURES))
    if not (isinstance(measures, list) and measures and all(m in MEASURES for m in measures)):
        raise fail("[measures] list", measures, f"a non-empty list among {', '.join(MEASURES)}")
    needs_trials = [m for m in measures if m in TRIAL_MEASURES]
    if needs_trials and trials == 0:
        raise StudySpecError(f"{where}: [measures] {', '.join(needs_trials)} need noisy trials, but [stimuli] trials = 0; "
                             f"expected trials >= 2 (with noise_hz > 0)")
    if needs_trials and circuit.inputs.source != "hallem_carlson":
        raise StudySpecError(f"{where}: [measures] {', '.join(needs_trials)} compare odour pairs; the circuit's "
                             f"[inputs] source = {circuit.inputs.source!r}, expected 'hallem_carlson'")
    reference = tables["contrasts"].get("reference", {})
    if not isinstance(reference, dict):
        raise fail("[contrasts] reference", reference, "a table of factor = level")
    for key, level in reference.items():
        if key not in factors:
            raise fail(f"[contrasts] reference {key!r}", level, f"a factor of the study ({', '.join(factors) or 'none'})")
        if level not in factors[key]:
            raise fail(f"[contrasts] reference {key!r}", level, f"one of its levels {list(factors[key])}")
    loss = tables["contrasts"].get("loss", [])
    if loss and not (isinstance(loss, list) and len(loss) == 2 and all(m in measures for m in loss) and loss[0] != loss[1]):
        raise fail("[contrasts] loss", loss, f"two different measures of the study ({', '.join(measures)}) whose "
                                             "relative losses against the reference are compared")
    if loss and not reference:
        raise fail("[contrasts] loss", loss, "a [contrasts] reference to measure the losses against")
    if reference and len(seeds) < 2:
        raise fail("seeds", seeds, "at least 2 seeds for the paired contrasts")
    spiking = tables["spiking"]
    presentation = spiking.get("presentation_ms")
    if presentation is not None and (isinstance(presentation, bool) or not isinstance(presentation, (int, float))
                                     or presentation <= 0):
        raise fail("[spiking] presentation_ms", presentation, "a time > 0 ms")
    from flymodel.spiking.devices import DEVICES

    device = spiking.get("device", "cpp_standalone")
    if device not in DEVICES:
        raise fail("[spiking] device", device, f"one of {', '.join(DEVICES)}")
    description = t.get("description", "")
    if not isinstance(description, str):
        raise fail("description", description, "a string")
    return StudySpec(name=t["name"], circuit=circuit, factors=factors, seeds=tuple(seeds), engines=tuple(engines),
                     description=description, trials=trials, noise_hz=float(noise), pairs=pairs, pair_drive=pair_drive,
                     min_drive=float(min_drive), readout=kind, k=k, coding_level=None if f is None else float(f),
                     measures=tuple(measures), reference=reference, loss=tuple(loss),
                     fixed_shuffle="kc.shuffle_seed" in tables["overrides"],
                     spiking_presentation_ms=None if presentation is None else float(presentation),
                     spiking_device=device, source=where)
