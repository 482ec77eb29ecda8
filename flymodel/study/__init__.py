"""Hypothesis studies: a TOML file of circuit factors, seeds, engines, readout, measures and contrasts (spec), one task
per (cell, seed, engine) (tasks), run in-process or on a Dask cluster with a resumable store (run)."""

from flymodel.study.run import run_study
from flymodel.study.spec import StudySpec, StudySpecError, load_study

__all__ = ["StudySpec", "StudySpecError", "load_study", "run_study"]
