"""The papers' retrieval protocols: which images are queries, which are training set and database, the metric.

Ryali et al. 2020, section 3.2: MNIST merges train and test (70,000), draws 100 random queries per class
(1,000) and uses the other 69,000 as both training set and database, scored by mAP@All; CIFAR-10 draws
1,000 queries per class (10,000), keeps 50,000 as training set and database, scored by mAP@1000.
Fashion-MNIST is not in the paper; it follows the MNIST protocol (same size and classes).

``PROTOCOLS`` holds these three protocols by dataset name; ``get_protocol`` looks one up.

Examples
--------
>>> from flymodel.data import PROTOCOLS
>>> {name: (p.queries_per_class, p.metric) for name, p in PROTOCOLS.items()}
{'mnist': (100, 'mAP@All'), 'fashion_mnist': (100, 'mAP@All'), 'cifar10': (1000, 'mAP@1000')}
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from flymodel.data.images import ImageDataset, load_dataset
from flymodel.validation import check_choice, check_int


@dataclass(frozen=True)
class Split:
    """Index arrays into a dataset: queries, database (= training set), and their seed.

    Made by ``stratified_split``, ``Protocol.split`` and ``Protocol.validation_split``. The fields are also the
    constructor's arguments.

    Attributes
    ----------
    queries : ndarray of shape (n_queries,), dtype int64
        Sorted row indices of the queries.
    database : ndarray of shape (n_database,), dtype int64
        Sorted row indices of every other item: the database, also the training set.
    seed : int
        The seed the queries were drawn with.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.data import stratified_split
    >>> split = stratified_split(np.array([0, 0, 0, 1, 1, 1, 2, 2, 2]), per_class=1, seed=0)
    >>> split.queries.tolist(), split.database.tolist(), split.seed
    ([2, 4, 7], [0, 1, 3, 5, 6, 8], 0)
    """

    queries: np.ndarray
    database: np.ndarray
    seed: int


@dataclass(frozen=True)
class Protocol:
    """A retrieval protocol: dataset, queries drawn per class, and the metric's cut-off R (None = mAP@All).

    The fields are also the constructor's arguments; ``PROTOCOLS`` holds the papers' protocols.

    Attributes
    ----------
    name : str
        The protocol's name, the key in ``PROTOCOLS``.
    dataset : str
        The dataset's name in flymodel.data.DATASETS.
    queries_per_class : int
        Queries drawn at random from each class.
    R : int or None
        The metric's cut-off: mAP over the R nearest database items, or over all of them for None.

    See Also
    --------
    get_protocol : Looks a protocol up by dataset name.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.data import get_protocol
    >>> protocol = get_protocol("mnist")
    >>> protocol.queries_per_class, protocol.R, protocol.metric
    (100, None, 'mAP@All')

    A split of 10 classes of 110 items each: 100 queries per class, the other 10 per class are the database.

    >>> labels = np.repeat(np.arange(10), 110)
    >>> split = protocol.split(labels, seed=0)
    >>> len(split.queries), len(split.database)
    (1000, 100)
    >>> np.bincount(labels[split.database]).tolist()
    [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]

    Validation queries come from the database only, never from the query set:

    >>> inner = protocol.validation_split(labels, split, per_class=5)
    >>> len(inner.queries), len(inner.database), bool(np.isin(inner.queries, split.database).all())
    (50, 50, True)
    """

    name: str
    dataset: str
    queries_per_class: int
    R: int | None

    @property
    def metric(self) -> str:  # a property, described without Returns; numpydoc ignore=RT01
        """The metric's name as papers write it, e.g. ``"mAP@All"`` or ``"mAP@1000"``.

        A str: ``"mAP@All"`` when ``R`` is None, else ``"mAP@<R>"``.
        """
        return "mAP@All" if self.R is None else f"mAP@{self.R}"

    def load(self, root: str | os.PathLike[str] | None = None) -> ImageDataset:
        """The protocol's dataset (train and test merged, as the protocol uses it).

        Parameters
        ----------
        root : str or os.PathLike or None, default None
            The folder that holds the dataset's file; None searches flymodel.data.data_dirs().

        Returns
        -------
        ImageDataset
            The dataset, as flymodel.data.load_dataset returns it.

        Raises
        ------
        DataFileError
            If the dataset's file is not found or fails its checksum.

        Examples
        --------
        >>> from flymodel.data import get_protocol
        >>> get_protocol("mnist").load().n_train
        60000
        """
        return load_dataset(self.dataset, root)

    def split(self, labels: np.ndarray, seed: int) -> Split:
        """Draw ``queries_per_class`` random queries of each class with ``seed``; every other item is the database.

        Parameters
        ----------
        labels : array-like of shape (n_items,)
            The class of each item.
        seed : int
            The seed of the draw, an integer >= 0.

        Returns
        -------
        Split
            The query and database indices, as ``stratified_split`` gives them.

        Raises
        ------
        TypeError
            If ``seed`` is not an integer.
        ValueError
            If ``seed`` is negative, or a class has no more than ``queries_per_class`` items.
        """
        seed = check_int(seed, "seed", minimum=0)
        return stratified_split(labels, self.queries_per_class, seed)

    def validation_split(self, labels: np.ndarray, split: Split, per_class: int = 100) -> Split:
        """Carve validation queries (``per_class`` of each class) out of split's training set, as Appendix D does.

        Hyperparameters are chosen on this split, never on the query set: its queries and its database are
        both drawn from ``split.database`` only, with ``split.seed``.

        Parameters
        ----------
        labels : array-like of shape (n_items,)
            The class of each item of the whole dataset.
        split : Split
            The protocol's split, whose database is divided.
        per_class : int, default 100
            Validation queries drawn from each class of the database.

        Returns
        -------
        Split
            Indices into the whole dataset: validation queries and validation database, both within
            ``split.database``.

        Raises
        ------
        ValueError
            If a class of ``split.database`` has no more than ``per_class`` items.
        """
        inner = stratified_split(np.asarray(labels)[split.database], per_class, split.seed)
        return Split(queries=split.database[inner.queries], database=split.database[inner.database], seed=split.seed)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description for results files.

        Returns
        -------
        dict
            ``name``, ``dataset``, ``queries_per_class``, ``R``, ``metric`` and a note on what the database is.
        """
        return {"name": self.name, "dataset": self.dataset, "queries_per_class": self.queries_per_class,
                "R": self.R, "metric": self.metric, "database": "all non-query items (also the training set)"}


def stratified_split(labels: np.ndarray, per_class: int, seed: int) -> Split:
    """Pick ``per_class`` random items of each class as queries; the rest are the database.

    The query indices are sorted; the database is every other index, in order.

    Parameters
    ----------
    labels : array-like of shape (n_items,)
        The class of each item.
    per_class : int
        Queries drawn without replacement from each class.
    seed : int
        The seed of ``numpy.random.default_rng``; the same labels and seed give the same split.

    Returns
    -------
    Split
        Sorted query indices, the sorted indices of every other item as the database, and ``seed``.

    Raises
    ------
    ValueError
        If ``per_class`` < 1, or a class has no more than ``per_class`` items (it would leave none in the database).
    TypeError
        If ``per_class`` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.data import stratified_split
    >>> labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    >>> split = stratified_split(labels, per_class=1, seed=0)
    >>> split.queries.tolist(), labels[split.queries].tolist()
    ([2, 4, 7], [0, 1, 2])
    >>> split.database.tolist()
    [0, 1, 3, 5, 6, 8]
    >>> stratified_split(labels, per_class=3, seed=0)
    Traceback (most recent call last):
        ...
    ValueError: class 0 has 3 items; need more than per_class=3 to leave a database
    """
    labels = np.asarray(labels)
    per_class = check_int(per_class, "per_class", minimum=1)
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
    """The protocol for a dataset name; unknown names raise a ValueError listing the known ones.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist", "cifar10"}
        The dataset's name, a key of ``PROTOCOLS``.

    Returns
    -------
    Protocol
        The protocol.

    Raises
    ------
    ValueError
        If ``name`` is not a key of ``PROTOCOLS``.

    Examples
    --------
    >>> from flymodel.data import get_protocol
    >>> protocol = get_protocol("cifar10")
    >>> protocol.dataset, protocol.queries_per_class, protocol.metric
    ('cifar10', 1000, 'mAP@1000')
    >>> get_protocol("imagenet")
    Traceback (most recent call last):
        ...
    ValueError: dataset='imagenet' is not known; expected one of: cifar10, fashion_mnist, mnist
    """
    return PROTOCOLS[check_choice(name, "dataset", tuple(PROTOCOLS))]
