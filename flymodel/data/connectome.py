"""The hemibrain v1.2.1 connectome: PN→KC synapses in the right calyx and KC→APL synapses, as matrices.

The hemibrain is Scheffer et al. 2020, eLife 9:e57443 (CC BY 4.0). The matrices are indexed by KC, PN and
glomerulus; the files are described in shared/data/README.md.
"""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flymodel.data.files import data_path

PN_KC_FILE = "hemibrain_pn_kc.csv"
KC_APL_FILE = "hemibrain_kc_apl.csv"
#: The KC→APL region that is the calyx, where the PN→KC synapses are.
CALYX_ROI = "CA(R)"
#: Default synapse threshold of a PN→KC pair: every pair the data hold (6.15 glomeruli per KC on average).
DEFAULT_MIN_SYNAPSES = 1


@dataclass(frozen=True, eq=False)
class Hemibrain:
    """PN→KC and KC→APL synapse counts of the hemibrain's right mushroom body, after a per-pair threshold.

    Rows are the KCs of the PN→KC table sorted by body id (all of them, also those left without inputs by
    min_synapses); PN columns are sorted by body id, glomerulus columns by name. Made by ``load_hemibrain``; the
    arrays are read-only. The fields are also the constructor's arguments.

    Attributes
    ----------
    kc_ids : ndarray of shape (n_kc,), dtype int64
        The KCs' body ids, sorted.
    kc_types : tuple of str
        The type of each KC, e.g. ``"KCab-c"``, ``"KCg-m"`` or ``"KCa'b'-ap1"``.
    pn_ids : ndarray of shape (n_pn,), dtype int64
        The PNs' body ids, sorted.
    pn_types : tuple of str
        The type of each PN, e.g. ``"DM1_lPN"``.
    pn_glomeruli : tuple of str
        The glomerulus of each PN.
    glomeruli : tuple of str
        The glomerulus labels, sorted.
    pn_synapses : ndarray of shape (n_kc, n_pn), dtype int64
        Synapses of each PN→KC pair, 0 for pairs below ``min_synapses``.
    glomerulus_synapses : ndarray of shape (n_kc, n_glomeruli), dtype int64
        ``pn_synapses`` summed over the PNs of each glomerulus.
    apl_synapses : ndarray of shape (n_kc,), dtype int64
        KC→APL synapses of each KC over all regions (not thresholded).
    apl_calyx_synapses : ndarray of shape (n_kc,), dtype int64
        KC→APL synapses of each KC in the calyx, CA(R).
    min_synapses : int
        The per-pair synapse threshold applied to ``pn_synapses``.

    Examples
    --------
    >>> from flymodel.data import load_hemibrain
    >>> hemibrain = load_hemibrain()
    >>> hemibrain.pn_synapses.shape, hemibrain.glomerulus_synapses.shape, hemibrain.apl_synapses.shape
    ((1776, 119), (1776, 60), (1776,))
    >>> hemibrain.pn_types[0], hemibrain.pn_glomeruli[0]
    ('DM1_lPN', 'DM1')
    >>> round(float(hemibrain.glomeruli_per_kc.mean()), 2)
    6.15
    >>> int(hemibrain.kc_subset(["KCab"]).sum()), int(hemibrain.kc_subset(["KCg-m"]).sum())
    (808, 590)
    """

    kc_ids: np.ndarray  # (n_kc,) body ids
    kc_types: tuple[str, ...]  # e.g. 'KCab-c', 'KCg-m', "KCa'b'-ap1"
    pn_ids: np.ndarray  # (n_pn,) body ids
    pn_types: tuple[str, ...]  # e.g. 'DM1_lPN'
    pn_glomeruli: tuple[str, ...]  # the glomerulus of each PN
    glomeruli: tuple[str, ...]  # (n_glomeruli,) sorted labels
    pn_synapses: np.ndarray  # (n_kc, n_pn) int: synapses of each PN→KC pair (0 below min_synapses)
    glomerulus_synapses: np.ndarray  # (n_kc, n_glomeruli) int: pn_synapses summed over the PNs of each glomerulus
    apl_synapses: np.ndarray  # (n_kc,) int: KC→APL synapses over all regions
    apl_calyx_synapses: np.ndarray  # (n_kc,) int: KC→APL synapses in the calyx, CA(R)
    min_synapses: int

    @property
    def glomeruli_per_kc(self) -> np.ndarray:  # a property, described without Returns; numpydoc ignore=RT01
        """The number of glomeruli that reach each KC (its in-degree in the glomerulus wiring).

        An integer ndarray of shape (n_kc,): the glomeruli with at least one synapse onto the KC after
        ``min_synapses``.
        """
        return (self.glomerulus_synapses > 0).sum(axis=1)

    def kc_subset(self, kc_types: tuple[str, ...] | list[str]) -> np.ndarray:
        """Boolean mask of the KCs whose type is one of ``kc_types``; raise if a name matches no KC.

        Each name is an exact type such as ``"KCg-m"``, or a class prefix such as ``"KCab"`` for all αβ subtypes.

        Parameters
        ----------
        kc_types : tuple of str or list of str
            KC types or type prefixes; a KC is selected if its type starts with any of them.

        Returns
        -------
        ndarray of shape (n_kc,), dtype bool
            True for the selected KCs.

        Raises
        ------
        ValueError
            If a name matches no KC (the message lists the KC types).

        Examples
        --------
        >>> from flymodel.data import load_hemibrain
        >>> hemibrain = load_hemibrain()
        >>> mask = hemibrain.kc_subset(["KCab", "KCg-m"])
        >>> mask.dtype, int(mask.sum())
        (dtype('bool'), 1398)
        """
        types = np.array(self.kc_types)
        mask = np.zeros(len(types), dtype=bool)
        for name in kc_types:
            hit = np.char.startswith(types, name)
            if not hit.any():
                known = ", ".join(sorted(set(self.kc_types)))
                raise ValueError(f"kc_types entry {name!r} matches no hemibrain KC; expected a type or prefix of: {known}")
            mask |= hit
        return mask


def load_hemibrain(root: str | os.PathLike[str] | None = None, min_synapses: int = DEFAULT_MIN_SYNAPSES) -> Hemibrain:
    """Read and check the hemibrain tables; PN→KC pairs with fewer than min_synapses synapses are dropped.

    ``min_synapses = 1`` (default) keeps every pair: 6.15 glomeruli per KC on average (median 6). ``min_synapses = 3``
    keeps 5.38 per KC over all 1,776 KCs, 22 of which lose every input; over the 1,754 that keep one it is 5.44
    (median 5), the data README's figure. KC→APL counts are not thresholded. The arrays are read-only; a call with
    the same arguments returns the same object (the files are parsed once per process).

    Parameters
    ----------
    root : str or os.PathLike or None, default None
        The folder that holds hemibrain_pn_kc.csv and hemibrain_kc_apl.csv; None searches
        flymodel.data.data_dirs().
    min_synapses : int, default 1
        The fewest synapses a PN→KC pair needs to be kept, an integer >= 1.

    Returns
    -------
    Hemibrain
        The synapse matrices of the 1,776 KCs.

    Raises
    ------
    ValueError
        If ``min_synapses`` is not an integer >= 1, or a table lacks a column, holds no rows, or gives a neuron two
        types or glomeruli.
    DataFileError
        If a file is not found or fails its checksum.

    Examples
    --------
    >>> from flymodel.data import load_hemibrain
    >>> hemibrain = load_hemibrain()
    >>> len(hemibrain.kc_ids), len(hemibrain.pn_ids), len(hemibrain.glomeruli)
    (1776, 119, 60)
    >>> strict = load_hemibrain(min_synapses=3)
    >>> round(float(strict.glomeruli_per_kc.mean()), 2), int((strict.glomeruli_per_kc == 0).sum())
    (5.38, 22)
    >>> load_hemibrain() is hemibrain
    True
    """
    if isinstance(min_synapses, bool) or not isinstance(min_synapses, (int, np.integer)) or min_synapses < 1:
        raise ValueError(f"min_synapses={min_synapses!r}: expected an integer >= 1 (synapses per PN→KC pair)")
    return _load(data_path(PN_KC_FILE, root), data_path(KC_APL_FILE, root), int(min_synapses))


@functools.lru_cache(maxsize=8)
def _load(pn_kc_path: Path, kc_apl_path: Path, min_synapses: int) -> Hemibrain:
    pairs = _read(pn_kc_path, ("pn_body_id", "pn_type", "glomerulus", "kc_body_id", "kc_type", "synapses"))
    apl = _read(kc_apl_path, ("kc_body_id", "kc_type", "apl_body_id", "roi", "synapses"))
    pn_id, kc_id = pairs["pn_body_id"].astype(np.int64), pairs["kc_body_id"].astype(np.int64)
    synapses = pairs["synapses"].astype(np.int64)
    kc_ids, kc_row = np.unique(kc_id, return_inverse=True)
    pn_ids, pn_col = np.unique(pn_id, return_inverse=True)
    glomeruli, glom_col = np.unique(pairs["glomerulus"], return_inverse=True)
    kept = synapses >= min_synapses
    pn_synapses = np.zeros((len(kc_ids), len(pn_ids)), dtype=np.int64)
    np.add.at(pn_synapses, (kc_row[kept], pn_col[kept]), synapses[kept])
    glomerulus_synapses = np.zeros((len(kc_ids), len(glomeruli)), dtype=np.int64)
    np.add.at(glomerulus_synapses, (kc_row[kept], glom_col[kept]), synapses[kept])
    kc_types = _one_per_id(kc_row, pairs["kc_type"], len(kc_ids), "kc_type")
    pn_types = _one_per_id(pn_col, pairs["pn_type"], len(pn_ids), "pn_type")
    pn_glomeruli = _one_per_id(pn_col, pairs["glomerulus"], len(pn_ids), "glomerulus")
    apl_kc = apl["kc_body_id"].astype(np.int64)
    apl_count = apl["synapses"].astype(np.int64)
    position = np.searchsorted(kc_ids, apl_kc)
    known = (position < len(kc_ids)) & (kc_ids[np.minimum(position, len(kc_ids) - 1)] == apl_kc)
    apl_synapses = np.bincount(position[known], weights=apl_count[known], minlength=len(kc_ids)).astype(np.int64)
    calyx = known & (apl["roi"] == CALYX_ROI)
    apl_calyx = np.bincount(position[calyx], weights=apl_count[calyx], minlength=len(kc_ids)).astype(np.int64)
    for array in (kc_ids, pn_ids, pn_synapses, glomerulus_synapses, apl_synapses, apl_calyx):
        array.flags.writeable = False
    return Hemibrain(kc_ids=kc_ids, kc_types=kc_types, pn_ids=pn_ids, pn_types=pn_types, pn_glomeruli=pn_glomeruli,
                     glomeruli=tuple(str(g) for g in glomeruli), pn_synapses=pn_synapses,
                     glomerulus_synapses=glomerulus_synapses, apl_synapses=apl_synapses,
                     apl_calyx_synapses=apl_calyx, min_synapses=int(min_synapses))


def _read(path: Path, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named columns of a CSV file as string arrays; a missing column or an empty table raises naming the file."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: missing column {', '.join(missing)}; expected columns {', '.join(columns)}")
        rows = [tuple(row[c] for c in columns) for row in reader]
    if not rows:
        raise ValueError(f"{path} holds no rows")
    return {c: np.array(values) for c, values in zip(columns, zip(*rows))}


def _one_per_id(index: np.ndarray, values: np.ndarray, n: int, name: str) -> tuple[str, ...]:
    """The single value of a per-neuron column for each neuron (rows are pairs); raise if a neuron has two."""
    out = np.empty(n, dtype=object)
    out[index] = values
    if np.any(out[index] != values):
        raise ValueError(f"a neuron has more than one {name} in the hemibrain table")
    return tuple(str(v) for v in out)
