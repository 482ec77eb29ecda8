"""The papers' retrieval protocols: which images are queries, which are the training set and database, and the metric.

Ryali et al. 2020, section 3.2: MNIST merges train and test (70,000), draws 100 random queries per class
(1,000) and uses the other 69,000 as both training set and database, scored by mAP@All; CIFAR-10 draws
1,000 queries per class (10,000), keeps 50,000 as training set and database, scored by mAP@1000.
Fashion-MNIST is not in the paper; it follows the MNIST protocol (same size and classes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from flymodel.data.images import ImageDataset, load_dataset
from flymodel.validation import check_choice, check_int


@dataclass(frozen=True)
class Split:
    """Index arrays into a dataset: queries, database (= training set), and their seed."""

    queries: np.ndarray
    database: np.ndarray
    seed: int


@dataclass(frozen=True)
class Protocol:
    """A retrieval protocol: dataset, queries drawn per class, and the metric's cut-off R (None = mAP@All)."""

    name: str
    dataset: str
    queries_per_class: int
    R: int | None

    @property
    def metric(self) -> str:
        """The metric's name as papers write it, e.g. 'mAP@All' or 'mAP@1000'."""
        return "mAP@All" if self.R is None else f"mAP@{self.R}"

    def load(self, root: str | os.PathLike[str] | None = None) -> ImageDataset:
        """The protocol's dataset (train and test merged, as the protocol uses it)."""
        return load_dataset(self.dataset, root)

    def split(self, labels: np.ndarray, seed: int) -> Split:
        """Draw queries_per_class random queries of each class with `seed`; every other item is the database."""
        seed = check_int(seed, "seed", minimum=0)
        return stratified_split(labels, self.queries_per_class, seed)

    def validation_split(self, labels: np.ndarray, split: Split, per_class: int = 100) -> Split:
        """Carve validation queries (per_class of each class) out of split's training set, as Appendix D does.

        Hyperparameters are chosen on this split, never on the query set: its queries and its database are
        both drawn from split.database only.
        """
        inner = stratified_split(np.asarray(labels)[split.database], per_class, split.seed)
        return Split(queries=split.database[inner.queries], database=split.database[inner.database], seed=split.seed)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description for results files."""
        return {"name": self.name, "dataset": self.dataset, "queries_per_class": self.queries_per_class,
                "R": self.R, "metric": self.metric, "database": "all non-query items (also the training set)"}


def stratified_split(labels: np.ndarray, per_class: int, seed: int) -> Split:
    """Pick per_class random items of each class as queries (sorted indices); the rest, in order, are the database."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    queries = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) <= per_class:
            raise ValueError(f"class {c} has {len(members)} items; need more than per_class={per_class} to leave a database")
        queries.append(rng.choice(members, size=per_class, replace=False))
    q = np.sort(np.concatenate(queries))
    mask = np.ones(len(labels), dtype=bool)
    mask[q] = False
    return Split(queries=q, database=np.flatnonzero(mask), seed=seed)


PROTOCOLS: dict[str, Protocol] = {
    "mnist": Protocol("mnist", "mnist", queries_per_class=100, R=None),
    "fashion_mnist": Protocol("fashion_mnist", "fashion_mnist", queries_per_class=100, R=None),
    "cifar10": Protocol("cifar10", "cifar10", queries_per_class=1000, R=1000),
}


def get_protocol(name: str) -> Protocol:
    """The protocol for a dataset name; unknown names raise a ValueError listing the known ones."""
    return PROTOCOLS[check_choice(name, "dataset", tuple(PROTOCOLS))]
