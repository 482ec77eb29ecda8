"""CircuitSpec: the PN→KC→APL circuit declared in a TOML file under circuits/, validated key by key.

One spec drives both encoders: the spiking network (``flymodel.spiking``) and the rate model
(``flymodel.circuit.rate``). A file may start with ``inherits = "other.toml"`` (relative to its folder) and override
single values; every key is checked against the schema below (the sections ``[inputs]``, ``[kc]``, ``[apl]``,
``[plasticity]`` and ``[simulation]``), so a typo is an error, not a silently ignored setting. Every error is a
``CircuitSpecError`` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The circuits/ folder of the checkout; bare names such as "drosophila_mb" are looked up there.
CIRCUITS_DIR = Path(__file__).resolve().parents[2] / "circuits"

INPUT_SOURCES = ("hallem_carlson", "mnist", "fashion_mnist", "gaussian")
CHANNELS = ("receptors", "glomeruli")
GLOMERULUS_DRIVES = ("hallem_carlson", "hallem_carlson+door")
PN_TRANSFORMS = ("linear", "olsen2010")
SPIKE_MODELS = ("poisson", "regular")
WIRINGS = ("sparse", "dense", "connectome", "shuffled")
CONNECTOMES = ("hemibrain",)
CONNECTOME_WEIGHTS = ("synapses", "binary")
NULLS = ("degree_preserving", "kc_degree", "uniform")
APL_WEIGHTS = ("uniform", "connectome")


class CircuitSpecError(ValueError):
    """A circuit file is unreadable, or a key in it is unknown, missing or out of range.

    A subclass of ``ValueError``; its message names the file (or ``<code>``, ``<dict>``), the key, the value and
    what was expected.

    See Also
    --------
    load_circuit : Reads and validates a circuit file.
    CircuitSpec.replace : Changes keys, validated like a file.

    Examples
    --------
    >>> from flymodel.circuit.spec import CircuitSpecError, load_circuit
    >>> spec = load_circuit("drosophila_mb")
    >>> spec.replace(**{"kc.fan_in": 30})
    Traceback (most recent call last):
    ...
    flymodel.circuit.spec.CircuitSpecError: ...drosophila_mb.toml: [kc] fan_in = 30: expected an integer in [1, 24]...
    >>> try:
    ...     spec.replace(**{"apl.gain": 0.0})
    ... except ValueError as error:
    ...     print(type(error).__name__, "unknown key" in str(error))
    CircuitSpecError True
    """


@dataclass(frozen=True)
class InputSpec:
    """Projection neurons: how many, which stimuli drive them, and how a stimulus becomes PN firing rates.

    The ``[inputs]`` section of a circuit file. ``source`` picks the stimuli (the Hallem & Carlson odours, MNIST or
    Fashion-MNIST images, or i.i.d. Gaussian patterns), and the other keys say how they become PN rates in Hz; the
    keys marked for one source or transform are ignored by the others. Values are checked when the section becomes
    part of a ``CircuitSpec``.

    See Also
    --------
    flymodel.circuit.circuit_stimuli : The PN rates of a spec's stimuli.

    Examples
    --------
    >>> from flymodel.circuit.spec import CircuitSpec, InputSpec, KCSpec, load_circuit
    >>> inputs = load_circuit("drosophila_mb").inputs
    >>> inputs.source, inputs.n, inputs.transform, inputs.spike_model
    ('hallem_carlson', 24, 'linear', 'poisson')

    A circuit of 10 Gaussian PNs, built in code instead of a file:

    >>> spec = CircuitSpec(name="tiny", inputs=InputSpec(source="gaussian", n=10, count=5),
    ...                    kc=KCSpec(n=20, fan_in=3))
    >>> spec.inputs.mean_hz, spec.inputs.std_hz, spec.inputs.count
    (20.0, 10.0, 5)
    """

    source: str = "hallem_carlson"  # stimuli presented by `flymodel simulate`: odours or images
    n: int = 24  # PNs (one per input feature: receptor or pixel)
    transform: str = "linear"  # odours: 'linear' (PN rate = ORN rate) or 'olsen2010' (divisive normalisation)
    max_rate_hz: float = 100.0  # images: rate of a fully on pixel; olsen2010: R_max
    olsen_sigma_hz: float = 12.0  # olsen2010: semi-saturation constant σ
    olsen_m: float = 0.05  # olsen2010: weight of the lateral (total ORN) suppression
    spike_model: str = "poisson"  # 'poisson' or 'regular' spike trains at the PN rate
    mean_hz: float = 20.0  # gaussian: mean μ of the i.i.d. PN rates
    std_hz: float = 10.0  # gaussian: standard deviation σ of the i.i.d. PN rates
    count: int = 0  # gaussian: number of patterns (required: no default count)
    seed: int = 0  # gaussian: seed of the patterns, independent of the wiring's simulation.seed
    channels: str = "receptors"  # odours: PN channels are the 24 'receptors', or the connectome's 'glomeruli'
    glomerulus_drive: str = "hallem_carlson"  # glomeruli: 'hallem_carlson' (21 driven) or 'hallem_carlson+door' (48)


@dataclass(frozen=True)
class KCSpec:
    """Kenyon cells: leaky integrate-and-fire neurons and their PN→KC wiring.

    The ``[kc]`` section of a circuit file: the number of KCs, how they are wired to the PNs
    (``flymodel.circuit.wiring.random_wiring``), and the LIF constants that both engines use (potentials in mV
    relative to rest, times in ms).

    See Also
    --------
    flymodel.circuit.wiring.random_wiring : The PN→KC weights that these keys describe.

    Examples
    --------
    >>> from flymodel.circuit.spec import load_circuit
    >>> kc = load_circuit("drosophila_mb").kc
    >>> kc.n, kc.wiring, kc.fan_in
    (2000, 'sparse', 6)
    >>> kc.threshold_mv, kc.epsp_mv, kc.tau_m_ms, kc.tau_syn_ms
    (10.0, 3.0, 10.0, 5.0)
    >>> load_circuit("hemibrain_mb").kc.wiring
    'connectome'
    """

    n: int = 2000  # Kenyon cells (about 2,000 per mushroom body: Aso et al. 2014)
    wiring: str = "sparse"  # 'sparse': fan_in random PNs, weight 1 (FlyHash); 'dense': N(0, 1); 'connectome'; 'shuffled'
    fan_in: int = 6  # PNs per KC (claws) for sparse wiring
    connectome: str = "hemibrain"  # connectome/shuffled: the data set; its PN channels are glomeruli
    weights: str = "synapses"  # connectome/shuffled: 'synapses' (count / mean count of a connected pair) or 'binary'
    min_synapses: int = 1  # connectome/shuffled: drop glomerulus→KC pairs with fewer synapses (per PN→KC pair)
    kc_types: tuple[str, ...] = ()  # connectome/shuffled: keep only KCs of these types or type prefixes (all if empty)
    null: str = "degree_preserving"  # shuffled: 'degree_preserving', 'kc_degree' or 'uniform'
    shuffle_seed: int = 0  # shuffled: seed of the shuffle (independent of simulation.seed)
    tau_m_ms: float = 10.0  # membrane time constant
    threshold_mv: float = 10.0  # spike threshold above rest
    reset_mv: float = 0.0  # reset potential relative to rest
    refractory_ms: float = 2.0  # absolute refractory period after a spike
    epsp_mv: float = 1.0  # mean depolarisation per PN spike per unit weight: epsp · τ_m is the area under one EPSP
    tau_syn_ms: float = 0.0  # decay of the synaptic current; 0 makes each PN spike a jump of epsp_mv in v


@dataclass(frozen=True)
class APLSpec:
    """The graded (non-spiking) APL: it integrates KC spikes and subtracts gain × activity from every KC.

    The ``[apl]`` section of a circuit file. The APL's feedback inhibition sets how many KCs respond to a stimulus;
    ``gain_mv = 0`` removes it (as in an APL knockdown).

    See Also
    --------
    flymodel.circuit.RateCircuit.steady_state : The fixed point of the APL feedback loop.

    Examples
    --------
    >>> from flymodel.circuit.spec import load_circuit
    >>> load_circuit("drosophila_mb").apl
    APLSpec(gain_mv=0.3, tau_ms=5.0, weights='uniform')
    >>> load_circuit("drosophila_mb_apl_knockdown").apl.gain_mv
    0.0
    """

    gain_mv: float = 1.0  # inhibition per unit APL activity; 0 removes the feedback
    tau_ms: float = 5.0  # decay of APL activity (a KC spike adds 1, or its KC→APL weight)
    weights: str = "uniform"  # KC→APL: 'uniform' (1 per spike) or 'connectome' (KC→APL synapses / their mean)


@dataclass(frozen=True)
class PlasticitySpec:
    """The spiking Krotov–Hopfield rule on PN→KC synapses.

    The ``[plasticity]`` section of a circuit file, used by the spiking engine only (see ``flymodel.spiking.network``
    for the mapping to eq. 1 of Ryali et al. 2020). With ``enabled = false`` the PN→KC weights stay fixed.

    Examples
    --------
    >>> from flymodel.circuit.spec import load_circuit
    >>> load_circuit("drosophila_mb").plasticity.enabled
    False
    >>> plasticity = load_circuit("mnist_kc").plasticity
    >>> plasticity.enabled, plasticity.lr, plasticity.delta, plasticity.trace_ms
    (True, 0.001, 0.0, 20.0)
    """

    enabled: bool = False  # learn the PN→KC weights while stimuli are presented (spiking engine)
    lr: float = 1e-3  # η0: learning rate per KC spike, decaying linearly to 0 over the run
    delta: float = 0.0  # anti-Hebbian strength Δ for strongly driven losers
    trace_ms: float = 20.0  # τ_x of the PN rate traces and the KC drive trace
    anti_margin_mv: float = 2.0  # a loser within this margin below threshold counts as strongly driven
    anti_interval_ms: float = 10.0  # at most one anti-Hebbian event per loser per interval


@dataclass(frozen=True)
class SimulationSpec:
    """Time step, presentation time per stimulus, readout and the seed of wiring and spike trains.

    The ``[simulation]`` section of a circuit file. Each stimulus is presented for ``presentation_ms`` (at least 10
    time steps), and a KC counts as responding when it fires at least ``min_spikes`` spikes in it.

    Examples
    --------
    >>> from flymodel.circuit.spec import load_circuit
    >>> load_circuit("drosophila_mb").simulation
    SimulationSpec(dt_ms=0.1, presentation_ms=1000.0, min_spikes=8, seed=0)
    >>> load_circuit("drosophila_mb").replace(**{"simulation.presentation_ms": 0.5})
    Traceback (most recent call last):
    ...
    flymodel.circuit.spec.CircuitSpecError: ...: [simulation] presentation_ms = 0.5: expected a time >= 10 time steps...
    """

    dt_ms: float = 0.1  # integration time step
    presentation_ms: float = 200.0  # how long each stimulus is presented, one after another
    min_spikes: int = 1  # a KC responds to a stimulus if it fires at least this many spikes
    seed: int = 0  # seed of the PN→KC wiring and the spike trains (a study's seed replaces it)


SECTIONS: dict[str, type] = {"inputs": InputSpec, "kc": KCSpec, "apl": APLSpec, "plasticity": PlasticitySpec,
                             "simulation": SimulationSpec}


@dataclass(frozen=True)
class CircuitSpec:
    """A validated circuit: its name, where it came from and the five parameter sections.

    Frozen: change a value with ``replace``, which validates the copy as a file is validated. Every range check
    across the sections runs when a spec is created, so a ``CircuitSpec`` in hand is always a valid circuit.

    Attributes
    ----------
    name : str
        The circuit's name (a file's ``name`` key, else the file's stem).
    description : str, default ""
        One line describing the circuit.
    inputs : InputSpec
        The ``[inputs]`` section: the projection neurons and their stimuli.
    kc : KCSpec
        The ``[kc]`` section: the Kenyon cells and their PN→KC wiring.
    apl : APLSpec
        The ``[apl]`` section: the graded APL's feedback inhibition.
    plasticity : PlasticitySpec
        The ``[plasticity]`` section: the spiking learning rule.
    simulation : SimulationSpec
        The ``[simulation]`` section: time step, presentation time, readout and seed.
    source : str, default "<code>"
        Where the spec came from (a file path, ``<code>`` or ``<dict>``); error messages start with it.

    Raises
    ------
    CircuitSpecError
        If a value is out of range or two sections disagree (e.g. ``[kc] fan_in`` larger than ``[inputs] n``).

    See Also
    --------
    load_circuit : Reads a circuit file.

    Examples
    --------
    >>> from flymodel.circuit.spec import CircuitSpec, load_circuit
    >>> spec = load_circuit("drosophila_mb")
    >>> spec.name, spec.inputs.n, spec.kc.n, spec.apl.gain_mv
    ('drosophila_mb', 24, 2000, 0.3)

    A copy without APL feedback; the original is unchanged:

    >>> blocked = spec.replace(**{"apl.gain_mv": 0.0})
    >>> blocked.apl.gain_mv, spec.apl.gain_mv
    (0.0, 0.3)

    Plain values for a results file, and back:

    >>> record = blocked.to_dict()
    >>> record["apl"]
    {'gain_mv': 0.0, 'tau_ms': 5.0, 'weights': 'uniform'}
    >>> CircuitSpec.from_dict(record) == blocked
    True
    """

    name: str
    description: str = ""
    inputs: InputSpec = field(default_factory=InputSpec)
    kc: KCSpec = field(default_factory=KCSpec)
    apl: APLSpec = field(default_factory=APLSpec)
    plasticity: PlasticitySpec = field(default_factory=PlasticitySpec)
    simulation: SimulationSpec = field(default_factory=SimulationSpec)
    source: str = "<code>"

    def __post_init__(self) -> None:
        _validate(self)

    def replace(self, **changes: Any) -> CircuitSpec:
        """A copy with dotted keys changed, e.g. ``spec.replace(**{"apl.gain_mv": 0.0})``; validated like a file.

        Parameters
        ----------
        **changes : Any
            New values by key: ``"SECTION.KEY"`` (e.g. ``"kc.n"``), or ``"name"`` or ``"description"``.

        Returns
        -------
        CircuitSpec
            The changed copy, with the same ``source``.

        Raises
        ------
        CircuitSpecError
            If a key is unknown, a value has the wrong type, or the changed circuit fails a range check.

        Examples
        --------
        >>> from flymodel.circuit.spec import load_circuit
        >>> small = load_circuit("drosophila_mb").replace(**{"kc.n": 200, "simulation.presentation_ms": 200.0})
        >>> small.kc.n, small.simulation.presentation_ms, small.kc.fan_in
        (200, 200.0, 6)
        """
        sections = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        top = {"name": self.name, "description": self.description}
        for key, value in changes.items():
            section, dot, param = key.partition(".")
            if not dot:
                if key not in top:
                    raise CircuitSpecError(f"{self.source}: cannot change {key!r}; use SECTION.KEY with a section among "
                                           f"{', '.join(SECTIONS)}, or name/description")
                top[key] = value
                continue
            if section not in SECTIONS or param not in sections[section]:
                raise CircuitSpecError(f"{self.source}: unknown key {key!r}; expected SECTION.KEY with keys from: "
                                       f"{', '.join(f'{s}.{k}' for s in SECTIONS for k in sections[s])}")
            sections[section][param] = value
        return _from_tables(top, sections, self.source)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary of every value, as JSON holds it (lists for tuples), for results files.

        Returns
        -------
        dict
            The keys ``name``, ``description``, ``source`` and one dictionary per section (``inputs``, ``kc``,
            ``apl``, ``plasticity``, ``simulation``); ``from_dict`` reads it back.

        Examples
        --------
        >>> from flymodel.circuit.spec import load_circuit
        >>> record = load_circuit("drosophila_mb").to_dict()
        >>> list(record)
        ['name', 'description', 'inputs', 'kc', 'apl', 'plasticity', 'simulation', 'source']
        >>> record["kc"]["kc_types"]
        []
        """
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, tables: dict[str, Any]) -> CircuitSpec:
        """The spec that ``to_dict`` wrote, validated like a file (a saved model's circuit is read back this way).

        Parameters
        ----------
        tables : dict
            A dictionary with a ``name``, optionally ``description`` and ``source``, and any of the sections as
            dictionaries; missing sections and keys take their defaults.

        Returns
        -------
        CircuitSpec
            The validated spec; its ``source`` is ``tables["source"]``, or ``"<dict>"`` if absent.

        Raises
        ------
        CircuitSpecError
            If ``name`` is missing, a key is unknown, or a value fails its type or range check.

        Examples
        --------
        >>> from flymodel.circuit.spec import CircuitSpec
        >>> spec = CircuitSpec.from_dict({"name": "small", "kc": {"n": 100, "fan_in": 4}})
        >>> spec.kc.n, spec.kc.fan_in, spec.inputs.n, spec.source
        (100, 4, 24, '<dict>')
        """
        top = {key: tables[key] for key in ("name", "description") if key in tables}
        if "name" not in top:
            raise CircuitSpecError(f"a circuit dictionary needs a 'name'; got keys {', '.join(map(repr, tables))}")
        unknown = sorted(set(tables) - {"name", "description", "source", *SECTIONS})
        if unknown:
            raise CircuitSpecError(f"unknown key {', '.join(map(repr, unknown))} in a circuit dictionary; expected name, "
                                   f"description, source and the sections {', '.join(SECTIONS)}")
        return _from_tables(top, {name: tables.get(name, {}) for name in SECTIONS}, str(tables.get("source", "<dict>")))


def load_circuit(path_or_name: str | os.PathLike[str]) -> CircuitSpec:
    """Load and validate a circuit file; a bare name such as ``"drosophila_mb"`` is read from circuits/.

    A path that does not end in ``.toml`` and does not exist is taken as a name in ``CIRCUITS_DIR``. A file with
    ``inherits = "other.toml"`` starts from that file (relative to its own folder) and overrides it section by
    section, key by key; ``name`` and ``description`` are not inherited (the name defaults to the file's stem).

    Parameters
    ----------
    path_or_name : str or os.PathLike
        A circuit file, or the name of one shipped in circuits/ (see ``available_circuits``).

    Returns
    -------
    CircuitSpec
        The validated circuit; its ``source`` is the file's path.

    Raises
    ------
    CircuitSpecError
        If the file (or one it inherits from) does not exist or is not valid TOML, ``inherits`` forms a cycle, or
        a section, key, type or value is invalid.

    See Also
    --------
    available_circuits : The names of the shipped circuits.

    Examples
    --------
    >>> from flymodel.circuit.spec import load_circuit
    >>> spec = load_circuit("drosophila_mb")
    >>> spec.name, spec.kc.n, spec.simulation.presentation_ms
    ('drosophila_mb', 2000, 1000.0)

    A file of one's own that inherits a shipped circuit and changes two values:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from flymodel.circuit.spec import CIRCUITS_DIR
    >>> base = (CIRCUITS_DIR / "drosophila_mb.toml").as_posix()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "small_mb.toml"
    ...     _ = path.write_text(f'inherits = "{base}"\\n[kc]\\nn = 200\\n[apl]\\ngain_mv = 0.5\\n')
    ...     small = load_circuit(path)
    >>> small.name, small.kc.n, small.kc.fan_in, small.apl.gain_mv
    ('small_mb', 200, 6, 0.5)
    """
    path = Path(path_or_name)
    if path.suffix != ".toml" and not path.exists():
        path = CIRCUITS_DIR / f"{path.name}.toml"
    tables = _read_with_inheritance(path, ())
    top = {key: tables.pop(key) for key in ("name", "description") if key in tables}
    top.setdefault("name", path.stem)
    unknown = sorted(set(tables) - set(SECTIONS))
    if unknown:
        raise CircuitSpecError(f"{path}: unknown section or key {', '.join(map(repr, unknown))}; expected name, "
                               f"description, inherits and the sections {', '.join(f'[{s}]' for s in SECTIONS)}")
    for name, value in tables.items():
        if not isinstance(value, dict):
            raise CircuitSpecError(f"{path}: {name!r} must be a table ([{name}]), got {value!r}")
    return _from_tables(top, tables, str(path))


def available_circuits() -> list[str]:
    """Names of the circuit files shipped in circuits/.

    Returns
    -------
    list of str
        The file stems, sorted; each one can be passed to ``load_circuit``.

    Examples
    --------
    >>> from flymodel.circuit.spec import available_circuits, load_circuit
    >>> names = available_circuits()
    >>> "drosophila_mb" in names, "hemibrain_mb" in names
    (True, True)
    >>> load_circuit(names[0]).name == names[0]
    True
    """
    return sorted(p.stem for p in CIRCUITS_DIR.glob("*.toml"))


def _read_with_inheritance(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """Parse one TOML file and merge it over the file it inherits from (section by section, key by key)."""
    if not path.is_file():
        known = ", ".join(available_circuits()) or "none"
        raise CircuitSpecError(f"circuit file {path} does not exist; circuits shipped in {CIRCUITS_DIR}: {known}")
    if path.resolve() in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path.resolve()))
        raise CircuitSpecError(f"{path}: 'inherits' forms a cycle: {cycle}")
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CircuitSpecError(f"{path}: not valid TOML: {exc}") from None
    parent = tables.pop("inherits", None)
    if parent is None:
        return tables
    if not isinstance(parent, str):
        raise CircuitSpecError(f"{path}: 'inherits' must be a file name such as \"drosophila_mb.toml\", got {parent!r}")
    if not (path.parent / parent).is_file():
        raise CircuitSpecError(f"{path}: inherits = {parent!r}, but {path.parent / parent} does not exist")
    base = _read_with_inheritance(path.parent / parent, (*chain, path.resolve()))
    base.pop("name", None)
    base.pop("description", None)
    for key, value in tables.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def _from_tables(top: dict[str, Any], tables: dict[str, dict[str, Any]], source: str) -> CircuitSpec:
    """Build the spec from plain tables, type-checking every value against the section's field types."""
    sections = {}
    for name, klass in SECTIONS.items():
        values = dict(tables.get(name, {}))
        fields = {f.name: f for f in dataclasses.fields(klass)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise CircuitSpecError(f"{source}: [{name}] has unknown key {', '.join(map(repr, unknown))}; "
                                   f"expected keys: {', '.join(fields)}")
        for key, value in values.items():
            values[key] = _coerce(value, fields[key].type, f"{source}: [{name}] {key}")
        sections[name] = klass(**values)
    for key in ("name", "description"):
        if key in top and not isinstance(top[key], str):
            raise CircuitSpecError(f"{source}: {key} must be a string, got {top[key]!r}")
    return CircuitSpec(name=top["name"], description=top.get("description", ""), source=source, **sections)


def _coerce(value: Any, annotation: str, where: str) -> Any:
    """Check a TOML value against a field annotation ('int', 'float', 'bool', 'str'); ints are accepted as floats."""
    if annotation == "tuple[str, ...]":
        if not (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
            raise CircuitSpecError(f"{where} = {value!r}: expected a list of strings")
        return tuple(value)
    if annotation == "bool":
        ok = isinstance(value, bool)
    elif annotation == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif annotation == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        expected = {"float": "a finite number", "int": "an integer", "bool": "true or false", "str": "a string"}[annotation]
        raise CircuitSpecError(f"{where} = {value!r}: expected {expected}")
    return value


def _validate(spec: CircuitSpec) -> None:
    """Range checks across the sections; each error names the file, the key, the value and the allowed range."""
    where = spec.source

    def need(ok: bool, key: str, value: Any, expected: str) -> None:
        if not ok:
            raise CircuitSpecError(f"{where}: {key} = {value!r}: expected {expected}")

    i, kc, apl, pl, sim = spec.inputs, spec.kc, spec.apl, spec.plasticity, spec.simulation
    need(i.source in INPUT_SOURCES, "[inputs] source", i.source, f"one of {', '.join(INPUT_SOURCES)}")
    need(i.n >= 1, "[inputs] n", i.n, "an integer >= 1")
    need(i.transform in PN_TRANSFORMS, "[inputs] transform", i.transform, f"one of {', '.join(PN_TRANSFORMS)}")
    need(i.max_rate_hz > 0, "[inputs] max_rate_hz", i.max_rate_hz, "a rate > 0 Hz")
    need(i.olsen_sigma_hz > 0, "[inputs] olsen_sigma_hz", i.olsen_sigma_hz, "a rate > 0 Hz")
    need(i.olsen_m >= 0, "[inputs] olsen_m", i.olsen_m, "a number >= 0")
    need(i.spike_model in SPIKE_MODELS, "[inputs] spike_model", i.spike_model, f"one of {', '.join(SPIKE_MODELS)}")
    if i.source == "gaussian":
        need(i.count >= 1, "[inputs] count", i.count, "an integer >= 1: the number of gaussian patterns to draw")
        need(i.mean_hz >= 0, "[inputs] mean_hz", i.mean_hz, "a rate >= 0 Hz")
        need(i.std_hz >= 0, "[inputs] std_hz", i.std_hz, "a standard deviation >= 0 Hz")
        need(i.seed >= 0, "[inputs] seed", i.seed, "an integer >= 0")
    need(i.channels in CHANNELS, "[inputs] channels", i.channels, f"one of {', '.join(CHANNELS)}")
    need(i.glomerulus_drive in GLOMERULUS_DRIVES, "[inputs] glomerulus_drive", i.glomerulus_drive,
         f"one of {', '.join(GLOMERULUS_DRIVES)}")
    from_connectome = kc.wiring in ("connectome", "shuffled")
    if i.source == "hallem_carlson" and from_connectome:
        need(i.channels == "glomeruli", "[inputs] channels", i.channels,
             "'glomeruli': a connectome wiring's PN channels are glomeruli, so odours must drive glomeruli")
    if i.channels == "glomeruli":
        need(i.source == "hallem_carlson" and from_connectome, "[inputs] channels", i.channels,
             "'receptors' unless source = 'hallem_carlson' and [kc] wiring is 'connectome' or 'shuffled'")
    need(kc.n >= 2, "[kc] n", kc.n, "an integer >= 2")
    need(kc.wiring in WIRINGS, "[kc] wiring", kc.wiring, f"one of {', '.join(WIRINGS)}")
    if kc.wiring == "sparse":
        need(1 <= kc.fan_in <= i.n, "[kc] fan_in", kc.fan_in, f"an integer in [1, {i.n}] (the number of PNs)")
    if kc.wiring in ("connectome", "shuffled"):
        need(kc.connectome in CONNECTOMES, "[kc] connectome", kc.connectome, f"one of {', '.join(CONNECTOMES)}")
        need(kc.weights in CONNECTOME_WEIGHTS, "[kc] weights", kc.weights, f"one of {', '.join(CONNECTOME_WEIGHTS)}")
        need(kc.min_synapses >= 1, "[kc] min_synapses", kc.min_synapses, "an integer >= 1 (synapses per PN→KC pair)")
        need(kc.null in NULLS, "[kc] null", kc.null, f"one of {', '.join(NULLS)}")
        need(kc.shuffle_seed >= 0, "[kc] shuffle_seed", kc.shuffle_seed, "an integer >= 0")
    need(kc.tau_m_ms > 0, "[kc] tau_m_ms", kc.tau_m_ms, "a time > 0 ms")
    need(kc.threshold_mv > 0, "[kc] threshold_mv", kc.threshold_mv, "a potential > 0 mV above rest")
    need(kc.reset_mv < kc.threshold_mv, "[kc] reset_mv", kc.reset_mv, f"a potential below threshold_mv = {kc.threshold_mv}")
    need(kc.refractory_ms >= 0, "[kc] refractory_ms", kc.refractory_ms, "a time >= 0 ms")
    need(kc.epsp_mv > 0, "[kc] epsp_mv", kc.epsp_mv, "a potential > 0 mV")
    need(kc.tau_syn_ms >= 0, "[kc] tau_syn_ms", kc.tau_syn_ms, "a time >= 0 ms (0: instantaneous synapses)")
    need(apl.gain_mv >= 0, "[apl] gain_mv", apl.gain_mv, "a gain >= 0 mV (0 removes APL feedback)")
    need(apl.tau_ms > 0, "[apl] tau_ms", apl.tau_ms, "a time > 0 ms")
    need(apl.weights in APL_WEIGHTS, "[apl] weights", apl.weights, f"one of {', '.join(APL_WEIGHTS)}")
    if apl.weights == "connectome":
        need(from_connectome, "[apl] weights", apl.weights, "'uniform' unless [kc] wiring is 'connectome' or 'shuffled'")
    need(pl.lr >= 0, "[plasticity] lr", pl.lr, "a learning rate >= 0")
    need(pl.delta >= 0, "[plasticity] delta", pl.delta, "an anti-Hebbian strength >= 0")
    need(pl.trace_ms > 0, "[plasticity] trace_ms", pl.trace_ms, "a time > 0 ms")
    need(0 < pl.anti_margin_mv < kc.threshold_mv - kc.reset_mv, "[plasticity] anti_margin_mv", pl.anti_margin_mv,
         f"a margin in (0, {kc.threshold_mv - kc.reset_mv}) mV below threshold")
    need(pl.anti_interval_ms > 0, "[plasticity] anti_interval_ms", pl.anti_interval_ms, "a time > 0 ms")
    need(sim.dt_ms > 0, "[simulation] dt_ms", sim.dt_ms, "a time step > 0 ms")
    need(sim.presentation_ms >= 10 * sim.dt_ms, "[simulation] presentation_ms", sim.presentation_ms,
         f"a time >= 10 time steps ({10 * sim.dt_ms} ms)")
    need(sim.min_spikes >= 1, "[simulation] min_spikes", sim.min_spikes, "an integer >= 1")
    need(sim.seed >= 0, "[simulation] seed", sim.seed, "an integer >= 0")
