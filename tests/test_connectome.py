"""The hemibrain loader: the counts of shared/data/README.md, the synapse threshold, KC→APL counts and its errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from flymodel.data import DataFileError, load_hemibrain
from flymodel.data.connectome import KC_APL_FILE, PN_KC_FILE
from flymodel.data.files import data_path


@pytest.fixture(scope="module")
def hemibrain():
    return load_hemibrain()


def test_counts_match_the_data_readme(hemibrain):
    """119 PNs of 60 glomerulus labels (61 PN types), 1,776 KCs, 175,274 synapses, 6.15 glomeruli per KC (median 6)."""
    assert hemibrain.pn_synapses.shape == (1776, 119) and len(hemibrain.glomeruli) == 60
    assert len(set(hemibrain.pn_types)) == 61 and int(hemibrain.pn_synapses.sum()) == 175_274
    assert int(hemibrain.glomerulus_synapses.sum()) == 175_274
    per_kc = hemibrain.glomeruli_per_kc
    assert round(float(per_kc.mean()), 2) == 6.15 and np.median(per_kc) == 6
    types = dict(zip(*np.unique(hemibrain.kc_types, return_counts=True)))
    assert types["KCg-m"] == 590 and types["KCab-m"] == 352 and types["KCab-p"] == 9 and types["KCg-s4"] == 1


def test_glomerulus_matrix_sums_the_pns_of_each_glomerulus(hemibrain):
    for g, name in enumerate(hemibrain.glomeruli):
        columns = [i for i, pn in enumerate(hemibrain.pn_glomeruli) if pn == name]
        np.testing.assert_array_equal(hemibrain.glomerulus_synapses[:, g], hemibrain.pn_synapses[:, columns].sum(axis=1))


def test_min_synapses_drops_weaker_pairs():
    """≥ 3 synapses: 5.44 glomeruli per KC over the KCs that keep an input (median 5), as the data README gives."""
    strong = load_hemibrain(min_synapses=3)
    per_kc = strong.glomeruli_per_kc
    assert round(float(per_kc[per_kc > 0].mean()), 2) == 5.44 and np.median(per_kc[per_kc > 0]) == 5
    assert strong.pn_synapses.shape == (1776, 119) and strong.pn_synapses[(strong.pn_synapses > 0)].min() == 3
    assert (per_kc == 0).sum() == 22


def test_kc_to_apl_counts(hemibrain):
    """Every KC of the PN→KC table has KC→APL synapses; the calyx holds a part of them."""
    assert (hemibrain.apl_synapses > 0).all()
    assert (hemibrain.apl_calyx_synapses <= hemibrain.apl_synapses).all() and 0 < hemibrain.apl_calyx_synapses.sum()
    assert int(hemibrain.apl_synapses.sum()) == 94_044  # of 101,457 over all 1,919 KCs of the APL table


def test_kc_subsets_by_type_or_class(hemibrain):
    assert hemibrain.kc_subset(["KCg-m"]).sum() == 590
    assert hemibrain.kc_subset(["KCab"]).sum() == 352 + 225 + 222 + 9
    with pytest.raises(ValueError, match=r"kc_types entry 'KCx' matches no hemibrain KC; expected a type or prefix"):
        hemibrain.kc_subset(["KCx"])


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_min_synapses_below_one_is_refused(value):
    with pytest.raises(ValueError, match=r"min_synapses=.*expected an integer >= 1"):
        load_hemibrain(min_synapses=value)


def test_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(DataFileError, match=f"{PN_KC_FILE} not found"):
        load_hemibrain(root=tmp_path)
    for name in (PN_KC_FILE, KC_APL_FILE):
        shutil.copy(data_path(name), tmp_path / name)
    with open(tmp_path / KC_APL_FILE, "a") as fh:
        fh.write("1,KCg-m,2,CA(R),3\n")
    with pytest.raises(DataFileError, match=f"{KC_APL_FILE} fails its checksum"):
        load_hemibrain(root=tmp_path)
