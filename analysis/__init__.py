"""flymodel's experiments: each module defines EXPERIMENT (flymodel.experiment.Experiment), run by
`flymodel analyze NAME` and redrawn by `flymodel figure NAME`."""

from __future__ import annotations

import importlib

from flymodel.experiment import Experiment

#: Experiment name → module that defines it (imported only when asked for: some pull in Brian2 or t-SNE).
EXPERIMENTS: dict[str, str] = {
    "hashing_quality": "analysis.hashing_quality",
    "sparsity": "analysis.sparsity",
    "activity_tsne": "analysis.activity_tsne",
    "inhibition": "analysis.inhibition",
    "portraits": "analysis.portraits",
    "connectome": "analysis.connectome",
}


def get_experiment(name: str) -> Experiment:
    """The experiment called name, or a ValueError listing the known ones."""
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment={name!r} is unknown; expected one of: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(EXPERIMENTS[name]).EXPERIMENT
