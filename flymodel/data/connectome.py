"""The hemibrain v1.2.1 connectome (Scheffer et al. 2020, eLife 9:e57443; CC BY 4.0): PN→KC synapses in the right
calyx and KC→APL synapses, as matrices indexed by KC, PN and glomerulus (files described in shared/data/README.md)."""

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
    """PN→KC and KC→APL synapse counts of the hemibrain's right mushroom body, after a per-pair synapse threshold.

    Rows are the KCs of the PN→KC table sorted by body id (all of them, also those left without inputs by
    min_synapses); PN columns are sorted by body id, glomerulus columns by name.
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
    def glomeruli_per_kc(self) -> np.ndarray:
        """The number of glomeruli that reach each KC (its in-degree in the glomerulus wiring)."""
        return (self.glomerulus_synapses > 0).sum(axis=1)

    def kc_subset(self, kc_types: tuple[str, ...] | list[str]) -> np.ndarray:
        """Boolean mask of the KCs whose type is one of kc_types (an exact type such as 'KCg-m', or a class prefix
        such as 'KCab' for all αβ subtypes); raise if a name matches no KC."""
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

    min_synapses = 1 (default) keeps every pair: 6.15 glomeruli per KC on average (median 6). min_synapses = 3 keeps
    5.38 per KC over all 1,776 KCs, 22 of which lose every input; over the 1,754 that keep one it is 5.44 (median 5),
    the data README's figure. KC→APL counts are not thresholded. The arrays are read-only; a call with the same
    arguments returns the same object (the files are parsed once per process).
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
