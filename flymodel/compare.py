"""The ``compare`` experiment: fit each hasher, hash a protocol's queries and database, and score mAP.

Each hasher is fit on the protocol's training set (its database).

One record per (seed, method, k) with its mAP, precision and timings; a summary over seeds; the paper's
numbers beside ours. The seed draws the query split and the hasher's randomness alike.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from flymodel.data.protocols import Protocol, Split, get_protocol
from flymodel.data.shadows import describe_shadow, shadow_rows
from flymodel.hashing import METHODS, make_hasher
from flymodel.io import environment_info, write_json
from flymodel.tasks import TaskStore, task_key
from flymodel.index import HammingIndex
from flymodel.metrics import TIE_POLICIES, retrieval_scores
from flymodel.paper import paper_map
from flymodel.validation import check_choice, check_int

EVALUATIONS = ("query", "validation")
#: Hasher parameters the experiment sets for each run itself.
RUN_PARAMS = ("k", "seed", "device")


@dataclass(frozen=True)
class CompareConfig:
    """What to compare: dataset, methods, hash lengths, seeds, tie policy and where to evaluate.

    The fields are the constructor's arguments; `validate` checks them.

    Attributes
    ----------
    dataset : str, default "mnist"
        A dataset protocol's name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
    methods : tuple of str, default ("flyhash", "lsh")
        Hasher names (keys of ``flymodel.hashing.METHODS``), in the order of the records.
    ks : tuple of int, default (2, 4, 8, 16, 32)
        Hash lengths: active units (sparse codes) or bits (dense codes).
    seeds : tuple of int, default (0, 1, 2)
        Seeds; each draws a query split and the hashers' randomness alike.
    ties : {"expected", "random"}, default "expected"
        Tie policy of the Hamming ranking (``flymodel.metrics.retrieval_scores``).
    evaluation : {"query", "validation"}, default "query"
        ``"query"`` scores the protocol's query set; ``"validation"`` scores validation queries carved out of
        the training set (Appendix D), the only place where defaults may be chosen.
    device : str, default "cpu"
        Torch device of the hashers that take one.
    method_params : dict of str to dict, default {}
        Maps a method name to extra constructor parameters (e.g. ``{"flyhash": {"centering": "mean"}}``); k,
        seed and device are set per run and may not appear.
    method_ks : dict of str to tuple of int, default {}
        Maps a method name to its own hash lengths, replacing ks for it (e.g. ``{"biohash": (2, 4, 8, 16, 32)}``).
    shadow_queries : bool, default False
        Also score every model on the queries with shadows (Appendix B, ``flymodel.data.shadows``), against the
        same database codes: the records gain ``map_shadow`` and ``precision_shadow`` (Table 6).
    """

    dataset: str = "mnist"
    methods: tuple[str, ...] = ("flyhash", "lsh")
    ks: tuple[int, ...] = (2, 4, 8, 16, 32)
    seeds: tuple[int, ...] = (0, 1, 2)
    ties: str = "expected"
    evaluation: str = "query"
    device: str = "cpu"
    method_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    method_ks: dict[str, tuple[int, ...]] = field(default_factory=dict)
    shadow_queries: bool = False

    def ks_of(self, method: str) -> tuple[int, ...]:
        """Return the hash lengths run for a method: its own from `method_ks`, else `ks`.

        Parameters
        ----------
        method : str
            A method name.

        Returns
        -------
        tuple of int
            The hash lengths.
        """
        return tuple(self.method_ks.get(method, self.ks))

    def runs(self) -> list[tuple[int, str, int]]:
        """Return every (seed, method, k), in the order the records are returned.

        Returns
        -------
        list of tuple
            ``(seed, method, k)`` by seed, then method, then k.
        """
        return [(seed, method, k) for seed in self.seeds for method in self.methods for k in self.ks_of(method)]

    def validate(self) -> CompareConfig:
        """Check every field and return the config unchanged.

        Returns
        -------
        CompareConfig
            This config, so that the call can be chained.

        Raises
        ------
        ValueError
            Naming the first bad field: an unknown dataset, method, method parameter, tie policy or evaluation,
            a per-run parameter (k, seed, device) in `method_params`, empty or duplicated methods, ks or seeds,
            a k below 1 or a negative seed.
        TypeError
            If a `method_ks` value is not a tuple or list, a k or seed is not an integer, or `shadow_queries` is
            not a bool.
        """
        get_protocol(self.dataset)
        if not self.methods:
            raise ValueError("methods is empty; expected at least one of: " + ", ".join(sorted(METHODS)))
        for method in self.methods:
            check_choice(method, "method", tuple(METHODS))
        for method, params in self.method_params.items():
            check_choice(method, "method_params key", tuple(self.methods))
            allowed = [p for p in METHODS[method]._get_param_names() if p not in RUN_PARAMS]
            for name in params:
                if name in RUN_PARAMS:
                    raise ValueError(f"{method}.{name} is set per run by the {name} option (ks, seeds, device), not as a method parameter")
                check_choice(name, f"{method} parameter", allowed)
        for method, ks in self.method_ks.items():
            check_choice(method, "method_ks key", tuple(self.methods))
            if not isinstance(ks, (tuple, list)):
                raise TypeError(f"method_ks[{method!r}]={ks!r} must be a tuple of hash lengths, e.g. (2, 4, 8)")
        for name, values in (("methods", self.methods), ("seeds", self.seeds),
                             *((f"ks of {m}", self.ks_of(m)) for m in self.methods)):
            if len(set(values)) != len(values):
                raise ValueError(f"{name}={list(values)} holds duplicates; expected each value once")
        if not self.seeds or not all(self.ks_of(method) for method in self.methods):
            raise ValueError(f"ks={list(self.ks)}, method_ks={self.method_ks} and seeds={list(self.seeds)} "
                             "must each hold at least one value")
        for method in self.methods:
            for k in self.ks_of(method):
                check_int(k, "k", minimum=1)
        for seed in self.seeds:
            check_int(seed, "seed", minimum=0)
        check_choice(self.ties, "ties", TIE_POLICIES)
        check_choice(self.evaluation, "evaluation", EVALUATIONS)
        if not isinstance(self.shadow_queries, bool):
            raise TypeError(f"shadow_queries={self.shadow_queries!r} must be True or False")
        return self


def run_params(method: str, **values: Any) -> dict[str, Any]:
    """Return the per-run parameters (k, seed, device) that the method's class takes.

    Parameters
    ----------
    method : str
        A method name (a key of ``flymodel.hashing.METHODS``).
    **values : dict, optional
        Candidate parameters, e.g. ``k=16, seed=0, device="cpu"``.

    Returns
    -------
    dict
        The entries of `values` that the class's constructor accepts (deterministic methods have no seed).
    """
    accepted = METHODS[method]._get_param_names()
    return {name: value for name, value in values.items() if name in accepted}


def _evaluation_split(protocol: Protocol, labels: np.ndarray, seed: int, evaluation: str) -> Split:
    split = protocol.split(labels, seed)
    return protocol.validation_split(labels, split) if evaluation == "validation" else split


#: A hook that sees each run's codes: on_codes(record, query_codes, database_codes, split) → entries for the record.
CodesHook = Callable[[dict[str, Any], np.ndarray, np.ndarray, Split], dict[str, Any]]


def run_key(config: CompareConfig, seed: int, method: str, k: int, extra: dict[str, Any] | None = None) -> str:
    """Return the task key of one run: a hash of what decides its record and of the code's version.

    Parameters
    ----------
    config : CompareConfig
        The comparison; its dataset, evaluation, ties, device, shadow_queries and the method's parameters enter
        the key.
    seed : int
        The run's seed.
    method : str
        The run's method.
    k : int
        The run's hash length.
    extra : dict or None, default None
        The settings of an ``on_codes`` hook, which decide what it adds to the record.

    Returns
    -------
    str
        The key (``flymodel.tasks.task_key``).
    """
    return task_key({"experiment": "compare", "extra": extra or {}, "dataset": config.dataset, "evaluation": config.evaluation,
                     "ties": config.ties, "device": config.device, "shadow_queries": config.shadow_queries,
                     "method": method, "params": config.method_params.get(method, {}), "seed": seed, "k": k})


def run_compare(config: CompareConfig, progress: bool = True,
                store: str | os.PathLike[str] | None = None, on_codes: CodesHook | None = None,
                hook_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run every (seed, method, k) of the config and return the results record (see the module docstring).

    Each run fits the hasher on the split's database, hashes the database and the queries, and scores the
    Hamming ranking by mAP and precision at the protocol's R.

    Parameters
    ----------
    config : CompareConfig
        What to compare; validated first.
    progress : bool, default True
        Show a progress bar over the runs.
    store : str or os.PathLike or None, default None
        A task folder (``flymodel.tasks.TaskStore``). Each finished run is written there at once, atomically and
        keyed by `run_key`, and runs already there are not computed again: an interrupted or extended
        comparison (more seeds, methods or ks) computes only the runs it lacks, and comparisons sharing a folder
        share their runs.
    on_codes : callable or None, default None
        ``on_codes(record, query_codes, database_codes, split) → dict``, called after each run is scored with its
        record and codes (and the split whose ``.queries`` and ``.database`` are the codes' dataset rows); the
        dict it returns is merged into the record before the record is saved, so that more measures can be taken
        from the codes without fitting again (resumed runs keep what it added).
    hook_settings : dict or None, default None
        The settings that decide what `on_codes` adds; part of each run's key.

    Returns
    -------
    dict
        ``experiment``, ``config``, ``protocol``, ``tie_policy``, ``evaluation``, ``split_sizes``,
        ``environment``, ``total_seconds``, ``records`` (one per run, in the order of ``config.runs()``: method,
        class, k, seed, map, precision, code_bits, storage_bits, timings, params, ...) and ``summary``
        (`summarize`); with shadowed queries also ``shadow`` and ``summary_shadow``.

    Raises
    ------
    ValueError
        If the config is invalid (see `CompareConfig.validate`).
    TypeError
        If a config field has the wrong type (see `CompareConfig.validate`).
    FileNotFoundError
        If a data file of the dataset is missing or fails its checksum (``flymodel.data.files.DataFileError``).
    """
    config.validate()
    protocol = get_protocol(config.dataset)
    dataset = protocol.load()
    runs = config.runs()
    tasks = None if store is None else TaskStore(store)
    keys = {run: run_key(config, *run, hook_settings) for run in runs}
    stored = {run: tasks.get(keys[run]) for run in runs if tasks is not None and keys[run] in tasks}
    done = set(stored)
    started = time.perf_counter()
    with tqdm(total=len(runs), initial=len(done), desc=f"compare {config.dataset}", unit="run",
              disable=not progress) as bar:
        for seed in config.seeds:
            todo = [(method, k) for s, method, k in runs if s == seed and (s, method, k) not in done]
            split = _evaluation_split(protocol, dataset.labels, seed, config.evaluation)
            if not todo:
                continue
            X_db, X_q = dataset.features(split.database), dataset.features(split.queries)
            X_shadow = shadow_rows(X_q, dataset.image_shape) if config.shadow_queries else None
            y_db, y_q = dataset.labels[split.database], dataset.labels[split.queries]
            with tempfile.TemporaryDirectory(prefix="flymodel-compare-") as scratch:  # removed when the seed is done
                for method, k in todo:
                    bar.set_postfix_str(f"seed={seed} {method} k={k}")
                    params = config.method_params.get(method, {})
                    # a seed's fits of one method share a feature cache (BioConvHash: filters and conv features), unless set
                    shared = {} if "feature_cache" in params else run_params(method, feature_cache=os.path.join(scratch, method))
                    hasher = make_hasher(method, **params, **shared,
                                         **run_params(method, k=k, seed=seed, device=config.device))
                    t0 = time.perf_counter()
                    hasher.fit(X_db)
                    t1 = time.perf_counter()
                    db_codes, q_codes = hasher.transform(X_db), hasher.transform(X_q)
                    t2 = time.perf_counter()
                    database = db_codes if config.ties == "random" else HammingIndex(db_codes.shape[1]).add(db_codes)
                    scores = retrieval_scores(q_codes, database, y_q, y_db, R=protocol.R, ties=config.ties, seed=seed)
                    t3 = time.perf_counter()
                    active = float(db_codes.sum(axis=1).mean())  # k, or the mean of an APL readout's varying counts
                    shadow = {}
                    if X_shadow is not None:  # Table 6: shadowed queries against the unchanged database
                        shadowed = retrieval_scores(hasher.transform(X_shadow), database, y_q, y_db, R=protocol.R,
                                                    ties=config.ties, seed=seed)
                        shadow = {"map_shadow": float(shadowed["average_precision"].mean()),
                                  "precision_shadow": float(shadowed["precision"].mean())}
                    record = {
                        "method": method, "class": type(hasher).__name__, "k": k, "seed": seed,
                        "map": float(scores["average_precision"].mean()),
                        "precision": float(scores["precision"].mean()),
                        **shadow,
                        "code_bits": int(db_codes.shape[1]),
                        **({"active_bits": active} if hasher.sparse else {}),
                        "storage_bits": storage_bits(hasher.sparse, active if hasher.sparse else k, db_codes.shape[1]),
                        "fit_seconds": t1 - t0, "encode_seconds": t2 - t1, "eval_seconds": t3 - t2,
                        "params": hasher.get_params(),
                        **({"training_log": hasher.training_log_} if hasattr(hasher, "training_log_") else {}),
                        **({"apl_gain_mv": hasher.apl_gain_mv_} if hasattr(hasher, "apl_gain_mv_") else {}),
                    }
                    if on_codes is not None:
                        record.update(on_codes(record, q_codes, db_codes, split))
                    stored[(seed, method, k)] = record
                    if tasks is not None:
                        tasks.put(keys[(seed, method, k)], record)
                    bar.update()
    records = [stored[run] for run in runs]
    return {
        "experiment": "compare",
        "config": asdict(config),
        "protocol": protocol.to_dict(),
        "tie_policy": config.ties,
        "evaluation": config.evaluation,
        "split_sizes": {"queries": int(len(split.queries)), "database": int(len(split.database))},
        "environment": environment_info(),
        "total_seconds": time.perf_counter() - started,
        "records": records,
        "summary": summarize(records, config.dataset),
        **({"shadow": describe_shadow(dataset.image_shape),
            "summary_shadow": summarize(records, config.dataset, shadow=True)} if config.shadow_queries else {}),
    }


def storage_bits(sparse: bool, active: float, code_size: int) -> float:
    """Return the bits needed to store one code.

    Sparse codes are stored as the indices of their active units, ``active·log2(m)`` bits; dense codes as
    their bits, ``active = k``.

    Parameters
    ----------
    sparse : bool
        Whether the codes are sparse (k active units of m).
    active : float
        Sparse codes: k, or the mean count of an APL readout's varying codes; dense codes: the code's width k.
    code_size : int
        Width m of the codes.

    Returns
    -------
    float
        The bits per code.
    """
    return float(active * np.log2(code_size)) if sparse else float(active)


def summarize(records: list[dict[str, Any]], dataset: str,
              shadow: bool = False) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Summarise mAP (%) over seeds per method and k, with the paper's value beside it.

    Parameters
    ----------
    records : list of dict
        Run records of `run_compare` (``method``, ``class``, ``k`` and ``map`` or ``map_shadow``).
    dataset : str
        The dataset, for the paper's values.
    shadow : bool, default False
        Summarise the shadowed queries' mAP and compare with Table 6.

    Returns
    -------
    dict
        ``summary[method][str(k)]`` holds ``mean`` and ``std`` (ddof = 1; 0.0 for one seed) of the mAP in
        percent, ``n`` (the seeds) and ``paper`` (``flymodel.paper.paper_map``, None where not reported), with
        the methods in the order of their first record and k increasing.
    """
    key = "map_shadow" if shadow else "map"
    out: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for method in dict.fromkeys(r["method"] for r in records):
        rows = [r for r in records if r["method"] == method]
        out[method] = {}
        for k in sorted({r["k"] for r in rows}):
            values = np.array([100 * r[key] for r in rows if r["k"] == k])
            out[method][str(k)] = {
                "mean": float(values.mean()),
                "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                "n": int(len(values)),
                "paper": paper_map(dataset, rows[0]["class"], k, shadow=shadow),
            }
    return out


def format_table(results: dict[str, Any]) -> str:
    """Format the summary as a plain-text table: one row per method, one column per k.

    Parameters
    ----------
    results : dict
        A results record of `run_compare`.

    Returns
    -------
    str
        A header line, then one line per method with ``mean±std (paper)`` cells in % mAP (``—`` where a k was
        not run).
    """
    summary = results["summary"]
    ks = sorted({int(k) for per_k in summary.values() for k in per_k})
    metric = results["protocol"]["metric"]
    header = f"{metric} (%), {results['evaluation']} set, ties={results['tie_policy']}, mean ± std over seeds (paper)"
    lines = [header, "method".ljust(12) + "".join(f"k={k}".rjust(22) for k in ks)]
    for method, per_k in summary.items():
        cells = []
        for k in ks:
            s = per_k.get(str(k))
            if s is None:
                cells.append("—".rjust(22))
                continue
            paper = f" ({s['paper']:.2f})" if s["paper"] is not None else ""
            cells.append(f"{s['mean']:.2f}±{s['std']:.2f}{paper}".rjust(22))
        lines.append(method.ljust(12) + "".join(cells))
    return "\n".join(lines)


def save_results(results: dict[str, Any], output_dir: str | Path) -> dict[str, Path]:
    """Write results.json and the mAP-vs-k figure (PNG and PDF) into output_dir; return their paths.

    Parameters
    ----------
    results : dict
        A results record of `run_compare`.
    output_dir : str or Path
        The folder; created if missing.

    Returns
    -------
    dict of str to Path
        ``json``, ``png`` and ``pdf``.
    """
    from flymodel.plots import plot_map_vs_k

    output_dir = Path(output_dir)
    paths = {"json": write_json(output_dir / "results.json", results)}
    paths.update(plot_map_vs_k(results, output_dir / "map_vs_k"))
    return paths
