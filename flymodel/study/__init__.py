"""Hypothesis studies: circuit factors crossed with seeds and engines, measured, and contrasted.

A TOML file declares the circuit factors, seeds, engines, readout, measures and contrasts (spec); there is one task
per (cell, seed, engine) (tasks), run in-process or on a Dask cluster with a resumable store (run).
"""

from flymodel.study.run import run_study
from flymodel.study.spec import StudySpec, StudySpecError, load_study

__all__ = ["StudySpec", "StudySpecError", "load_study", "run_study"]
