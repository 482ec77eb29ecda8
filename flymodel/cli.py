"""The ``flymodel`` command line: compare hashers on a dataset protocol; inspect the data files.

Its commands: ``compare`` (hashers on a dataset protocol), ``reproduce`` (the paper's tables), ``simulate`` (a
spiking circuit), ``analyze`` and ``figure`` (the experiments of ``analysis/``), ``study`` (a hypothesis study
file), ``fit``, ``encode`` and ``search`` (a saved hasher and its codes), and ``data`` (where the data files are,
and their checksums). ``flymodel COMMAND --help`` describes each.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from flymodel.compare import EVALUATIONS, CompareConfig, format_table, run_compare, save_results
from flymodel.hashing import METHODS
from flymodel.io import atomic_path, write_json
from flymodel.tasks import TASKS_DIR
from flymodel.metrics import TIE_POLICIES
from flymodel.reproduce import (
    TABLE_METHODS,
    TABLES,
    channel_inhibition_table,
    markdown_table,
    run_channel_inhibition,
    run_table,
    save_table,
)

EPILOG = """examples:
  flymodel compare --dataset mnist --methods flyhash lsh --k 2 4 8 16 32 --seeds 0 1 2
  flymodel compare --dataset mnist --methods flyhash --k 2 4 --set flyhash.centering=mean --evaluation validation
  flymodel reproduce mnist --seeds 0 1 2          # the paper's Table 1, every method
  flymodel reproduce cifar10 --shadows            # Table 2, and Table 6 from the same fits
  flymodel reproduce mnist --channel-inhibition --seeds 0   # Table 3: BioConvHash by k_CI
  flymodel simulate drosophila_mb --device cpp_standalone   # the spiking circuit on all 110 odours
  flymodel simulate circuits/drosophila_mb.toml --set apl.gain_mv=0 --device numpy
  flymodel analyze inhibition                      # APL disruption, rate and spiking circuits
  flymodel analyze hashing_quality --set datasets='["mnist"]' --preset quick
  flymodel figure inhibition                       # redraw from results/analysis/inhibition/results.json
  flymodel fit --method biohash --dataset mnist --set k=16 --set m=320 --output biohash.npz
  flymodel encode --model biohash.npz --input X.npy --output codes.npy --index index.npz
  flymodel search --index index.npz --queries Q.npy --model biohash.npz -n 10 --output neighbours.npz
  flymodel data
"""


def _parse_value(text: str) -> Any:
    """Read a --set value: JSON when it parses (numbers, true/false, null), else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_sets(items: list[str], form: str = "METHOD.PARAM=VALUE",
                example: str = "flyhash.centering=mean") -> dict[str, dict[str, Any]]:
    """Turn ['flyhash.m=2000', ...] into {'flyhash': {'m': 2000}}; form and example word the error."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        method, dot, param = key.partition(".")
        if not sep or not dot or not param:
            raise ValueError(f"--set {item!r} is not of the form {form} (e.g. {example})")
        out.setdefault(method, {})[param] = _parse_value(value)
    return out


def _cmd_compare(args: argparse.Namespace) -> int:
    config = CompareConfig(
        dataset=args.dataset, methods=tuple(args.methods), ks=tuple(args.k), seeds=tuple(args.seeds),
        ties=args.ties, evaluation=args.evaluation, device=args.device, method_params=_parse_sets(args.set),
    ).validate()
    output = Path(args.output or f"results/compare-{config.dataset}")
    results = run_compare(config, progress=not args.quiet)
    paths = save_results(results, output)
    print(format_table(results))
    print(f"\n{len(results['records'])} runs in {results['total_seconds']:.1f} s")
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    output = Path(args.output or f"results/reproduce-{args.dataset}")
    if args.channel_inhibition:
        results = run_channel_inhibition(args.dataset, seeds=tuple(args.seeds), device=args.device,
                                         progress=not args.quiet, store=output / TASKS_DIR)
        write_json(output / "results.json", results)
        table = channel_inhibition_table(results)
        with atomic_path(output / "table.md") as tmp:
            tmp.write_text(table)
        print(table)
        print(f"Table 3: {len(results['records'])} runs in {results['total_seconds']:.1f} s\njson: {output / 'results.json'}")
        return 0
    methods = tuple(args.methods or TABLE_METHODS)
    results = run_table(args.dataset, seeds=tuple(args.seeds), device=args.device, methods=methods,
                        progress=not args.quiet, store=output / TASKS_DIR, shadow_queries=args.shadows)
    paths = save_table(results, output)
    print(markdown_table(results))
    print(f"{TABLES[args.dataset]}: {len(results['records'])} runs in {results['total_seconds']:.1f} s")
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from flymodel.circuit.spec import load_circuit
    from flymodel.circuit.stimuli import circuit_stimuli
    from flymodel.plots import plot_kc_raster, plot_sparseness
    from flymodel.spiking import simulate

    spec = load_circuit(args.circuit)
    if args.set:
        sets = _parse_sets(args.set, form="SECTION.KEY=VALUE", example="apl.gain_mv=0")
        spec = spec.replace(**{f"{section}.{key}": value for section, keys in sets.items() for key, value in keys.items()})
    stimuli = circuit_stimuli(spec, n=args.n_stimuli)
    output = Path(args.output or f"results/simulate-{spec.name}")
    result = simulate(spec, stimuli.rates_hz, device=args.device, names=stimuli.names, directory=args.build_dir,
                      progress=not args.quiet)
    summary = result.summary()
    paths = {"json": write_json(output / "results.json", summary)}
    paths.update({f"raster {k}": v for k, v in plot_kc_raster(summary, output / "raster").items()})
    paths.update({f"sparseness {k}": v for k, v in plot_sparseness(summary, output / "sparseness").items()})
    fractions = result.fraction_responding()
    print(f"{spec.name} on {args.device}: {len(stimuli)} stimuli x {spec.simulation.presentation_ms:g} ms, "
          f"build {result.build_seconds:.1f} s, run {result.run_seconds:.1f} s")
    print(f"responding KCs (>= {spec.simulation.min_spikes} spikes): mean {fractions.mean():.1%}, "
          f"range {fractions.min():.1%} to {fractions.max():.1%}")
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _analysis_dir(name: str, given: str | None) -> Path:
    return Path(given or f"results/analysis/{name}")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from analysis import EXPERIMENTS, get_experiment
    from flymodel.experiment import make_config, run_experiment

    if args.list:
        for name in EXPERIMENTS:
            experiment = get_experiment(name)
            presets = f" (presets: {', '.join(experiment.presets)})" if experiment.presets else ""
            print(f"{name}: {experiment.description}{presets}")
        return 0
    if args.name is None:
        raise ValueError("name an experiment (flymodel analyze --list shows them)")
    experiment = get_experiment(args.name)
    overrides = {key: _parse_value(value) for key, value in (_split_setting(item) for item in args.set)}
    config = make_config(experiment, preset=args.preset, file=args.config, overrides=overrides)
    output = _analysis_dir(experiment.name, args.output)
    results, paths = run_experiment(experiment, config, output, progress=not args.quiet)
    print(f"{experiment.name}: done in {results['total_seconds']:.1f} s")
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _split_setting(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ValueError(f"--set {item!r} is not of the form KEY=VALUE (e.g. seeds=[0,1,2])")
    return key, value


def _cmd_figure(args: argparse.Namespace) -> int:
    from analysis import get_experiment
    from flymodel.experiment import redraw

    if args.name == "study":  # a study's figures, from the results.json that `flymodel study` wrote
        from flymodel.io import read_json
        from flymodel.study.plots import plot_study

        if args.results is None:
            raise ValueError("flymodel figure study needs --results DIR (the study's output folder)")
        paths = plot_study(read_json(Path(args.results) / "results.json"), Path(args.output or args.results))
        for kind, path in paths.items():
            print(f"{kind}: {path}")
        return 0
    experiment = get_experiment(args.name)
    paths = redraw(experiment, _analysis_dir(experiment.name, args.results), args.output)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from flymodel.study import load_study, run_study

    overrides = {key: _parse_value(value) for key, value in (_split_setting(item) for item in args.set)}
    study = load_study(args.file, overrides)
    output = Path(args.output) if args.output else Path("results") / "study" / study.name
    results = run_study(study, output, scheduler=args.scheduler, workers=args.workers, progress=not args.quiet)
    print(f"study {study.name}: {results['tasks_run']} of {results['tasks_total']} tasks run in "
          f"{results['total_seconds']:.1f} s ({args.scheduler}); results: {output / 'results.json'}")
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    import numpy as np

    from flymodel.data.protocols import get_protocol
    from flymodel.hashing import make_hasher

    params = {key: _parse_value(value) for key, value in (_split_setting(item) for item in args.set)}
    model = make_hasher(args.method, **params)
    if args.input:
        X = np.load(args.input)  # the training rows are held whole by fit
        source = args.input
    else:
        protocol = get_protocol(args.dataset)
        data = protocol.load()
        X = data.features(protocol.split(data.labels, args.seed).database)
        source = f"the {args.dataset} database (split seed {args.seed})"
    model.fit(X)
    model.save(args.output)
    size = "a varying number of" if model.code_size_ is None else model.code_size_
    print(f"{model!r} fitted on {len(X)} rows of {source}: {model.n_bits_}-bit codes, {size} bytes stored per code; "
          f"model: {args.output}")
    return 0


def _cmd_encode(args: argparse.Namespace) -> int:
    from flymodel.encoding import encode_file, load_model

    model = load_model(args.model, args.method)
    report = encode_file(model, args.input, args.output, index=args.index, packed=args.packed,
                         block_rows=args.block_rows, progress=not args.quiet)
    print(f"{report.shape[0]} codes ({report.layout}, {report.shape[1]} "
          f"{'bytes' if report.layout == 'packed' else 'active units'} each): {report.codes}"
          + (f"; index: {report.index}" if report.index else ""))
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    import numpy as np

    from flymodel.encoding import load_model, search_file
    from flymodel.io import atomic_path

    model = load_model(args.model) if args.model else None
    D, I = search_file(args.index, args.queries, args.n_neighbors, model=model)
    if args.output:
        with atomic_path(args.output) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, distances=D, ids=I)
        print(f"{len(D)} queries, {args.n_neighbors} neighbours each: {args.output} (distances, ids)")
    else:
        for q in range(len(D)):
            print(f"query {q}: " + " ".join(f"{i}:{d}" for d, i in zip(D[q], I[q])))
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from flymodel.data.files import DATA_ENV_VAR, EXPECTED_SHA256, data_dirs, data_path

    print(f"data directories searched ({DATA_ENV_VAR} overrides): " + ", ".join(str(d) for d in data_dirs()))
    failures = 0
    for name in EXPECTED_SHA256:
        try:
            print(f"  ok       {data_path(name)}")
        except (FileNotFoundError, ValueError) as exc:
            failures += 1
            print(f"  PROBLEM  {exc}")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``flymodel`` command, one subcommand per command.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand sets ``func``, the function that runs it on the parsed arguments.
    """
    parser = argparse.ArgumentParser(
        prog="flymodel",
        description="flymodel: the fruit-fly olfactory circuit as similarity search. "
        "Hash datasets with FlyHash and classical baselines and score retrieval as in Ryali et al. 2020.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    compare = sub.add_parser(
        "compare", help="fit hashers, hash a dataset's queries and database, and score mAP",
        description="Fit each method for each hash length k and seed on the protocol's training set, hash the "
        "queries and the database, and score Hamming ranking by mAP (MNIST and Fashion-MNIST: mAP@All; "
        "CIFAR-10: mAP@1000). Writes results.json and map_vs_k.png/.pdf to the output directory.",
    )
    compare.add_argument("--dataset", default="mnist", help="mnist, fashion_mnist or cifar10 (default: mnist)")
    compare.add_argument("--methods", nargs="+", default=["flyhash", "lsh"], metavar="METHOD",
                         help=f"hashers to compare, among: {', '.join(sorted(METHODS))} (default: flyhash lsh)")
    compare.add_argument("--k", nargs="+", type=int, default=[2, 4, 8, 16, 32], metavar="K",
                         help="hash lengths: active units (sparse) or bits (dense) (default: 2 4 8 16 32)")
    compare.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], metavar="SEED",
                         help="seeds; each draws a query split and the hashers' randomness (default: 0 1 2)")
    compare.add_argument("--ties", choices=TIE_POLICIES, default="expected",
                         help="'expected': average over random orders of tied items (default); 'random': one seeded order")
    compare.add_argument("--evaluation", choices=EVALUATIONS, default="query",
                         help="'query': the protocol's query set; 'validation': queries carved from the training set, "
                         "for choosing parameters (default: query)")
    compare.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N or auto (default: cpu)")
    compare.add_argument("--set", action="append", default=[], metavar="METHOD.PARAM=VALUE",
                         help="a hasher parameter, e.g. flyhash.centering=mean or flyhash.m=2000 (repeatable)")
    compare.add_argument("--output", metavar="DIR", help="output directory (default: results/compare-DATASET)")
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    compare.set_defaults(func=_cmd_compare)

    reproduce = sub.add_parser(
        "reproduce", help="reproduce the paper's Table 1 (mnist) or Table 2 (cifar10), and Tables 3 and 6",
        description="Run every method of Ryali et al. 2020's Table 1 (MNIST, mAP@All) or Table 2 (CIFAR-10, "
        "mAP@1000) for k = 2…32 (64 for all but BioHash and BioConvHash) over seeds, and write results.json, table.md (ours beside "
        "the paper's, with the reproduction targets checked) and map_vs_k.png/.pdf. Each finished run is "
        "stored at once in OUTPUT/tasks/, so an interrupted or extended run (more seeds or methods) computes only the "
        "runs it lacks.",
    )
    reproduce.add_argument("dataset", choices=sorted(TABLES), help="mnist: Table 1; cifar10: Table 2")
    reproduce.add_argument("--methods", nargs="+", metavar="METHOD",
                           help="a subset of the table's methods (default: all of them)")
    reproduce.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], metavar="SEED",
                           help="seeds (default: 0 1 2)")
    reproduce.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N or auto (default: cpu)")
    reproduce.add_argument("--shadows", action="store_true",
                           help="also score every model on queries with shadows (Table 6, Appendix B)")
    reproduce.add_argument("--channel-inhibition", action="store_true",
                           help="run Table 3 instead: BioConvHash for k_CI = 1, 5, 10, 25, 100 at k = 2…16")
    reproduce.add_argument("--output", metavar="DIR", help="output directory (default: results/reproduce-DATASET)")
    reproduce.add_argument("--quiet", action="store_true", help="no progress bar")
    reproduce.set_defaults(func=_cmd_reproduce)

    from flymodel.circuit.spec import available_circuits
    from flymodel.spiking.devices import DEVICES

    simulate = sub.add_parser(
        "simulate", help="run a spiking circuit (Brian2) on its stimuli: spikes, sparseness, raster",
        description="Build the circuit of a file in circuits/ (or a path) on a Brian2 device, present its stimuli "
        "(all Hallem & Carlson odours, or images) one after another, and write results.json, raster.png/.pdf "
        "(KC spikes and APL activity) and sparseness.png/.pdf (responding KCs per stimulus).",
    )
    simulate.add_argument("circuit", help=f"a circuit name ({', '.join(available_circuits())}) or a .toml path")
    simulate.add_argument("--device", choices=DEVICES, default="cpp_standalone",
                          help="Brian2 device: numpy (no compiler), cython, cpp_standalone (default) or cuda_standalone")
    simulate.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                          help="override a circuit value, e.g. apl.gain_mv=0 or simulation.presentation_ms=500")
    simulate.add_argument("--n-stimuli", type=int, metavar="N",
                          help="present only N stimuli (odours: the first N; images: N random ones, default 100)")
    simulate.add_argument("--output", metavar="DIR", help="output directory (default: results/simulate-CIRCUIT)")
    simulate.add_argument("--build-dir", metavar="DIR", help="standalone project folder (default: a temporary one)")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.set_defaults(func=_cmd_simulate)

    analyze = sub.add_parser(
        "analyze", help="run an analysis end to end: results.json and its figures (PNG and PDF)",
        description="Run an experiment of analysis/ with its default settings, changed by --preset, --config and "
        "--set (in that order), and write results.json (settings, versions, seeds, timings, raw numbers) and the "
        "figures drawn from it into OUTPUT (default results/analysis/NAME). --list shows the experiments.",
    )
    analyze.add_argument("name", nargs="?", help="the experiment (see --list)")
    analyze.add_argument("--list", action="store_true", help="list the experiments and their presets")
    analyze.add_argument("--preset", help="a named set of settings of the experiment (e.g. quick)")
    analyze.add_argument("--config", metavar="FILE", help="settings from a .toml or .json file (field = value)")
    analyze.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="one setting, a JSON value, e.g. seeds=[0,1,2] or n_trials=10 (repeatable)")
    analyze.add_argument("--output", metavar="DIR", help="output directory (default: results/analysis/NAME)")
    analyze.add_argument("--quiet", action="store_true", help="no progress bars")
    analyze.set_defaults(func=_cmd_analyze)

    figure = sub.add_parser(
        "figure", help="redraw an analysis's figures from its results.json, without rerunning it",
        description="Read RESULTS/results.json written by `flymodel analyze NAME` and draw its figures again.",
    )
    figure.add_argument("name", help="the experiment")
    figure.add_argument("--results", metavar="DIR", help="where results.json is (default: results/analysis/NAME)")
    figure.add_argument("--output", metavar="DIR", help="where to write the figures (default: beside results.json)")
    figure.set_defaults(func=_cmd_figure)

    study = sub.add_parser(
        "study", help="run a hypothesis study file: factors × seeds × engines, in-process or on a Dask cluster",
        description="Run every (cell, seed, engine) task of a study file (analysis/studies/NAME.toml or a path) and "
        "write OUTPUT/results.json (per-task measures, per-cell mean and 95 % CI, paired contrasts with Holm-adjusted "
        "p). Finished tasks are kept in OUTPUT/tasks/, so a rerun runs only the missing ones.",
    )
    study.add_argument("file", help="a study name in analysis/studies/ or a .toml path")
    study.add_argument("--scheduler", default="local", metavar="local|none|ADDRESS",
                       help="local: a Dask LocalCluster (default); none: in this process; or a scheduler address")
    study.add_argument("--workers", type=int, metavar="N", help="LocalCluster worker processes (default: the cores)")
    study.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="change a study key, a JSON value, e.g. seeds=3 or factors.kc.fan_in=[4,6] (repeatable)")
    study.add_argument("--output", metavar="DIR", help="output directory (default: results/study/NAME)")
    study.add_argument("--quiet", action="store_true", help="no progress bar")
    study.set_defaults(func=_cmd_study)

    fit = sub.add_parser("fit", help="fit a hasher on an .npy file or a dataset's database and save it",
                         description="Fit a hasher and write it with Hasher.save, for `flymodel encode`.")
    fit.add_argument("--method", required=True, choices=sorted(METHODS))
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="an .npy file of feature rows (n_samples, n_features)")
    source.add_argument("--dataset", help="a dataset protocol's database: mnist, cifar10, ...")
    fit.add_argument("--seed", type=int, default=0, help="the protocol's split seed (with --dataset)")
    fit.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE", help="a hasher parameter, e.g. k=16")
    fit.add_argument("--output", required=True, help="the model file to write (.npz)")
    fit.set_defaults(func=_cmd_fit)

    encode = sub.add_parser("encode", help="hash an .npy database in blocks into stored codes (and an index)",
                            description="Stream the rows of an .npy file through a saved hasher into an .npy of "
                                        "stored codes (packed bytes, or the sorted active units of k-sparse codes), "
                                        "written atomically through a memory map; --index also builds a HammingIndex.")
    encode.add_argument("--model", required=True, help="a hasher file written by Hasher.save or `flymodel fit`")
    encode.add_argument("--method", choices=sorted(METHODS), help="check that the model is of this method")
    encode.add_argument("--input", required=True, help="an .npy file of feature rows (n, n_features)")
    encode.add_argument("--output", required=True, help="the codes file to write (.npy)")
    encode.add_argument("--index", help="also build a HammingIndex of the codes and save it here (.npz)")
    encode.add_argument("--packed", action="store_true", help="store sparse codes packed too (m / 8 bytes each)")
    encode.add_argument("--block-rows", type=int, default=4096, help="rows hashed at a time (bounds memory)")
    encode.add_argument("--quiet", action="store_true", help="no progress bar")
    encode.set_defaults(func=_cmd_encode)

    search = sub.add_parser("search", help="the nearest codes of queries in a saved HammingIndex",
                            description="Search a HammingIndex (written by `flymodel encode --index` or "
                                        "HammingIndex.save) for the n nearest codes of each query, by Hamming "
                                        "distance then id.")
    search.add_argument("--index", required=True, help="a HammingIndex file")
    search.add_argument("--queries", required=True,
                        help="an .npy of stored codes, or of feature rows with --model")
    search.add_argument("-n", "--n-neighbors", type=int, default=10, help="neighbours per query (default 10)")
    search.add_argument("--model", help="encode the queries' feature rows with this hasher file first")
    search.add_argument("--output", help="write distances and ids to this .npz instead of printing them")
    search.set_defaults(func=_cmd_search)

    data = sub.add_parser("data", help="show where the data files are and verify their checksums",
                          description="List the data directories searched and verify every data file's sha256.")
    data.set_defaults(func=_cmd_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``flymodel`` console command; bad input ends with a one-line error and exit status 2.

    Parameters
    ----------
    argv : list of str or None, default None
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        The command's exit status: 0 on success (``data``: 1 if a data file has a problem).

    Raises
    ------
    SystemExit
        With status 2 on bad arguments or on a ValueError, TypeError, FileNotFoundError or RuntimeError of the
        command (its message printed as ``flymodel: error: ...``), with status 130 when interrupted, and with
        status 0 after ``--help``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        parser.exit(2, f"flymodel: error: {exc}\n")
    except KeyboardInterrupt:
        parser.exit(130, "flymodel: interrupted\n")


if __name__ == "__main__":
    sys.exit(main())
