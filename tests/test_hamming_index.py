"""HammingIndex and the code containers: exact results against brute force, with ties; batches; save and load;
clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flymodel.codes import SparseCodes, pack_codes, unpack_codes
from flymodel.hashing import NotFittedError
from flymodel.index import HammingIndex


def xor_distances(q: np.ndarray, db: np.ndarray) -> np.ndarray:
    return (q[:, None, :] ^ db[None, :, :]).sum(axis=2)


def brute_force(q: np.ndarray, db: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances by XOR count, ordered by distance then id."""
    dist = xor_distances(q, db)
    ids = np.lexsort((np.broadcast_to(np.arange(len(db)), dist.shape), dist), axis=1)[:, :n_neighbors]
    return np.take_along_axis(dist, ids, axis=1), ids


def sparse_codes(rng, n, m, k):
    codes = np.zeros((n, m), dtype=bool)
    codes[np.arange(n)[:, None], np.argsort(rng.random((n, m)), axis=1)[:, :k]] = True
    return codes


#: (kind, n_bits, make codes): small alphabets, so that many distances tie.
CASES = {
    "dense": ("dense", 12, lambda rng, n: rng.random((n, 12)) < 0.5),
    "dense-odd-width": ("dense", 37, lambda rng, n: rng.random((n, 37)) < 0.3),
    "sparse": ("sparse", 300, lambda rng, n: sparse_codes(rng, n, 300, 3)),
    "sparse-varying": ("sparse", 300, lambda rng, n: rng.random((n, 300)) < 0.01),  # an APL readout's varying k
}


@settings(max_examples=25, deadline=None)
@given(case=st.sampled_from(sorted(CASES)), seed=st.integers(0, 2**16), n_db=st.integers(1, 120),
       n_q=st.integers(1, 9), data=st.data())
def test_search_equals_brute_force_with_ties_ordered_by_distance_then_id(case, seed, n_db, n_q, data):
    kind, n_bits, make = CASES[case]
    rng = np.random.default_rng(seed)
    db, q = make(rng, n_db), make(rng, n_q)
    n_neighbors = data.draw(st.integers(1, n_db))
    index = HammingIndex(n_bits, kind=kind).add(db)
    D, I = index.search(q, n_neighbors)
    expected_D, expected_I = brute_force(q, db, n_neighbors)
    np.testing.assert_array_equal(D, expected_D)
    np.testing.assert_array_equal(I, expected_I)
    assert D.dtype == np.int32 and I.dtype == np.int64


@pytest.mark.parametrize("case", sorted(CASES))
def test_range_search_returns_every_code_within_the_radius(case):
    kind, n_bits, make = CASES[case]
    rng = np.random.default_rng(1)
    db, q = make(rng, 200), make(rng, 7)
    index = HammingIndex(n_bits, kind=kind).add(db)
    dist = xor_distances(q, db)
    radius = int(np.median(dist))
    lims, D, I = index.range_search(q, radius)
    for row in range(len(q)):
        ids = np.flatnonzero(dist[row] <= radius)
        ids = ids[np.lexsort((ids, dist[row, ids]))]
        np.testing.assert_array_equal(I[lims[row]:lims[row + 1]], ids)
        np.testing.assert_array_equal(D[lims[row]:lims[row + 1]], dist[row, ids])


@pytest.mark.parametrize("case", sorted(CASES))
def test_adding_in_batches_equals_adding_at_once(case):
    kind, n_bits, make = CASES[case]
    rng = np.random.default_rng(2)
    db, q = make(rng, 150), make(rng, 10)
    once = HammingIndex(n_bits, kind=kind).add(db)
    batched = HammingIndex(n_bits, kind=kind)
    for start, stop in ((0, 40), (40, 41), (41, 100), (100, 150)):
        batched.add(db[start:stop])
    batched.search(q, 5)  # a search between adds must not freeze the postings
    assert len(batched) == len(once) == 150
    for a, b in zip(once.search(q, 20), batched.search(q, 20)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", sorted(CASES))
def test_save_and_load_round_trip(case, tmp_path):
    kind, n_bits, make = CASES[case]
    rng = np.random.default_rng(3)
    db, q = make(rng, 90), make(rng, 6)
    index = HammingIndex(n_bits, kind=kind).add(db)
    path = index.save(tmp_path / "index.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["index.npz"]  # written atomically: no temporary file left
    loaded = HammingIndex.load(path)
    assert (loaded.kind, loaded.n_bits, len(loaded)) == (kind, n_bits, 90)
    for a, b in zip(index.search(q, 30), loaded.search(q, 30)):
        np.testing.assert_array_equal(a, b)


def test_auto_chooses_sparse_for_wide_sparse_codes_and_dense_otherwise():
    rng = np.random.default_rng(4)
    assert HammingIndex(2000).add(sparse_codes(rng, 50, 2000, 16)).kind == "sparse"
    assert HammingIndex(64).add(rng.random((50, 64)) < 0.5).kind == "dense"
    assert HammingIndex(2000, kind="dense").add(sparse_codes(rng, 50, 2000, 16)).kind == "dense"  # the override


def test_packed_and_sparse_inputs_give_the_same_results_as_boolean_ones():
    rng = np.random.default_rng(5)
    db, q = rng.random((80, 20)) < 0.4, rng.random((5, 20)) < 0.4
    from_bool = HammingIndex(20).add(db).search(q, 10)
    from_packed = HammingIndex(20).add(pack_codes(db)).search(pack_codes(q), 10)
    sparse_db, sparse_q = sparse_codes(rng, 80, 400, 4), sparse_codes(rng, 5, 400, 4)
    for a, b in zip(from_bool, from_packed):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(HammingIndex(400).add(sparse_db).search(sparse_q, 10),
                    HammingIndex(400).add(SparseCodes.from_dense(sparse_db)).search(SparseCodes.from_dense(sparse_q), 10)):
        np.testing.assert_array_equal(a, b)


def test_code_containers_round_trip_and_report_their_bytes():
    rng = np.random.default_rng(6)
    codes = rng.random((30, 37)) < 0.3
    packed = pack_codes(codes)
    assert packed.dtype == np.uint8 and packed.shape == (30, 5)
    np.testing.assert_array_equal(unpack_codes(packed, 37), codes)
    np.testing.assert_array_equal(packed, np.packbits(codes, axis=1))  # FAISS's layout
    sparse = SparseCodes.from_dense(codes)
    np.testing.assert_array_equal(sparse.to_dense(), codes)
    np.testing.assert_array_equal(sparse.weights, codes.sum(axis=1))
    np.testing.assert_array_equal(sparse.rows(3, 9).to_dense(), codes[3:9])
    assert HammingIndex(37).add(codes).code_size == 5
    fly = sparse_codes(rng, 40, 7840, 16)
    assert HammingIndex(7840).add(fly).code_size == pytest.approx(16 * 4 + 8 * 41 / 40)


@pytest.mark.parametrize(("make", "match"), [
    (lambda i, rng: i.add(rng.random((5, 13)) < 0.5), r"have 13 bits; this index holds 12-bit codes"),
    (lambda i, rng: i.search(rng.random((5, 13)) < 0.5, 1), r"have 13 bits; this index holds 12-bit codes"),
    (lambda i, rng: i.add(np.ones((5, 12), dtype=np.float32)), r"codes must be a boolean matrix"),
    (lambda i, rng: i.add(np.array([[0, 12]])), r"codes: SparseCodes.indices must lie in \[0, n_bits=12\)"),
    (lambda i, rng: i.search(np.array([[3, 1]]), 1), r"queries: indices must be sorted and distinct"),
    (lambda i, rng: i.search(rng.random((2, 12)) < 0.5, 0), r"n_neighbors"),
    (lambda i, rng: i.search(rng.random((2, 12)) < 0.5, 41), r"n_neighbors"),
    (lambda i, rng: i.range_search(rng.random((2, 12)) < 0.5, -1), r"radius"),
    (lambda i, rng: HammingIndex(12, kind="tree"), r"kind='tree': expected one of auto, dense, sparse"),
    (lambda i, rng: HammingIndex(12).search(rng.random((2, 12)) < 0.5, 1), r"the index is empty"),
])
def test_bad_input_gets_a_clear_error(make, match):
    rng = np.random.default_rng(7)
    index = HammingIndex(12).add(rng.random((40, 12)) < 0.5)
    with pytest.raises((ValueError, TypeError), match=match):  # TypeError: not codes at all (flymodel.validation)
        make(index, rng)


def test_packed_codes_with_the_wrong_dtype_or_padding_are_refused():
    with pytest.raises(ValueError, match=r"dtype int64; packed codes are uint8"):
        unpack_codes(np.zeros((3, 2), dtype=np.int64), 12)
    with pytest.raises(ValueError, match=r"non-zero padding bits beyond n_bits=12"):
        unpack_codes(np.full((3, 2), 255, dtype=np.uint8), 12)


def test_a_corrupt_or_foreign_file_is_refused(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"junk\.npz is not a HammingIndex file"):
        HammingIndex.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", format_version=np.array(99), n_bits=np.array(8), kind=np.array("dense"))
    with pytest.raises(ValueError, match=r"format version 99, expected 1"):
        HammingIndex.load(tmp_path / "other.npz")
    np.savez(tmp_path / "broken.npz", format_version=np.array(1), n_bits=np.array(8), kind=np.array("dense"))
    with pytest.raises(ValueError, match=r"a corrupt HammingIndex file"):
        HammingIndex.load(tmp_path / "broken.npz")


@pytest.mark.parametrize(("method", "params"), [("lsh", {"k": 12}), ("flyhash", {"k": 4, "m": 200}),
                                                ("biohash", {"k": 4, "m": 40, "max_epochs": 2})])
def test_encode_gives_the_stored_codes_of_transform_in_blocks(method, params, tmp_path):
    """encode(X): packed transform(X) (dense, or packed=True) or its sorted active units (sparse), block by block,
    from a memmap, into a memmap, and chunk by chunk from a dask array; code_size_ is the bytes stored."""
    import dask.array as da

    from flymodel.hashing import make_hasher

    rng = np.random.default_rng(8)
    X = rng.random((230, 20)).astype(np.float32)
    hasher = make_hasher(method, seed=0, device="cpu", **params).fit(X)
    codes = hasher.transform(X)
    expected = np.nonzero(codes)[1].reshape(len(X), -1).astype(np.int32) if hasher.sparse else pack_codes(codes)
    mapped = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=X.shape)
    mapped[:] = X
    for source in (X, mapped):
        np.testing.assert_array_equal(hasher.encode(source, block_rows=64), expected)
    out = np.lib.format.open_memmap(tmp_path / "codes.npy", mode="w+", dtype=expected.dtype, shape=expected.shape)
    assert hasher.encode(mapped, block_rows=50, out=out) is out
    np.testing.assert_array_equal(out, expected)
    lazy = hasher.encode(da.from_array(X, chunks=(70, 7)))
    assert isinstance(lazy, da.Array) and lazy.chunks[0] == (70, 70, 70, 20)
    np.testing.assert_array_equal(lazy.compute(scheduler="synchronous"), expected)
    np.testing.assert_array_equal(hasher.encode(X, packed=True), pack_codes(codes))
    stored = hasher.encode(X)
    assert hasher.code_size_ == (4 * params["k"] + 8 if hasher.sparse else stored.nbytes / len(X))
    index = HammingIndex(codes.shape[1]).add(stored)
    np.testing.assert_array_equal(index.search(hasher.encode(X[:5]), 3)[0][:, 0], 0)  # each finds its own code
    assert [a.tolist() for a in index.search(stored[:9], 4)] == [a.tolist() for a in index.search(codes[:9], 4)]
    with pytest.raises(ValueError, match="block_rows"):
        hasher.encode(X, block_rows=0)
    with pytest.raises(ValueError, match=r"out has shape \(3, 1\)"):
        hasher.encode(X, out=np.zeros((3, 1), dtype=expected.dtype))


def test_codes_of_varying_density_are_encoded_as_sparse_codes():
    """A circuit's APL readout: codes of different weights, as CSR (SparseCodes), packed on request, not in dask."""
    import dask.array as da

    from flymodel.hashing import CircuitHash

    X = np.random.default_rng(3).uniform(0, 150, size=(40, 24))
    hasher = CircuitHash("drosophila_mb", readout="apl", overrides={"kc.n": 200}, device="cpu").fit(X)
    codes = hasher.transform(X)
    assert len(set(codes.sum(axis=1))) > 1 and hasher.code_size_ is None
    stored = hasher.encode(X, block_rows=16)
    assert isinstance(stored, SparseCodes)
    np.testing.assert_array_equal(stored.to_dense(), codes)
    np.testing.assert_array_equal(hasher.encode(X, packed=True), pack_codes(codes))
    with pytest.raises(ValueError, match="a dask array of codes needs a fixed width"):
        hasher.encode(da.from_array(X))


def brute_counts(queries: np.ndarray, database: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    dist = xor_distances(queries, database)
    n_bins = int(queries.sum(1).max()) + int(database.sum(1).max()) + 1
    counts = np.zeros((len(queries), n_groups, n_bins), dtype=np.int64)
    for q in range(len(queries)):
        np.add.at(counts[q], (groups, dist[q]), 1)
    return counts


@settings(max_examples=40, deadline=None)
@given(n_bits=st.sampled_from([12, 64, 200, 300]), density=st.sampled_from([0.02, 0.08, 0.5]),
       fixed=st.booleans(), n=st.integers(1, 60), seed=st.integers(0, 2**16))
def test_distance_counts_equal_brute_force(n_bits, density, fixed, n, seed):
    """Both counting paths (postings below 10 % density, packed words above; 8- and 16-bit distances) give the
    exact (query, group, distance) histogram, for codes of one weight or of varying weights."""
    rng = np.random.default_rng(seed)
    if fixed:
        k = max(1, int(density * n_bits))
        def draw(m):
            codes = np.zeros((m, n_bits), dtype=bool)
            codes[np.arange(m)[:, None], np.argsort(rng.random((m, n_bits)), axis=1)[:, :k]] = True
            return codes
    else:
        def draw(m):
            return rng.random((m, n_bits)) < density
    database, queries = draw(n), draw(7)
    groups = rng.integers(0, 3, n)
    for kind in ("dense", "sparse"):
        index = HammingIndex(n_bits, kind=kind).add(database)
        np.testing.assert_array_equal(index.distance_counts(queries, groups, 3), brute_counts(queries, database, groups, 3))


def test_map_from_an_index_equals_map_from_codes_and_never_rebuilds_it(monkeypatch):
    from flymodel.metrics import mean_average_precision, retrieval_scores

    rng = np.random.default_rng(4)
    database, queries = rng.random((500, 400)) < 0.03, rng.random((40, 400)) < 0.03
    y_db, y_q = rng.integers(0, 4, 500), rng.integers(0, 4, 40)
    index = HammingIndex(400).add(database)
    expected = mean_average_precision(queries, database, y_q, y_db)
    assert retrieval_scores(queries, index, y_q, y_db)["average_precision"].mean() == pytest.approx(expected, abs=1e-12)
    builds = []
    monkeypatch.setattr(HammingIndex, "_build_postings", lambda self: builds.append(1))
    retrieval_scores(queries[:5], index, y_q[:5], y_db)
    retrieval_scores(SparseCodes.from_dense(queries), index, y_q, y_db, R=50)
    assert builds == []
    with pytest.raises(TypeError, match="ties='random' sorts full distance rows"):
        retrieval_scores(queries, index, y_q, y_db, ties="random")
    with pytest.raises(ValueError, match=r"groups must hold one integer in \[0, n_groups=2\)"):
        index.distance_counts(queries, np.full(500, 2), 2)


def test_a_dense_index_exposes_its_faiss_index():
    rng = np.random.default_rng(2)
    codes = rng.random((50, 24)) < 0.5
    index = HammingIndex(24).add(codes)
    D, I = index.faiss_index.search(pack_codes(codes[:4]), 3)
    assert [a.tolist() for a in index.search(codes[:4], 3)] == [D.tolist(), I.tolist()]
    with pytest.raises(ValueError, match="only a dense index keeps a FAISS IndexBinaryFlat"):
        HammingIndex(24, kind="sparse").add(codes).faiss_index


def test_edge_cases_found_in_review(tmp_path):
    """Very wide codes (32-bit distances), index values that would wrap in int32, padding bits, empty queries, and
    encode's options being keyword-only; a dask encode is frozen at encode time and survives empty chunks."""
    import dask.array as da

    from flymodel.hashing import FlyHash

    wide = np.zeros((2, 70_000), dtype=bool)
    wide[0, :10] = wide[1, :] = True
    index = HammingIndex(70_000, kind="dense").add(wide)
    np.testing.assert_array_equal(index.distance_counts(np.ones((1, 70_000), bool))[0, 0].nonzero()[0], [0, 69_990])
    with pytest.raises(ValueError, match=r"must lie in \[0, n_bits=10\)"):
        SparseCodes.from_indices(np.array([[2**32 + 5]]), 10)
    with pytest.raises(ValueError, match="non-zero padding bits beyond n_bits=4"):
        HammingIndex(4).add(np.array([[0b00001000]], dtype=np.uint8))
    dense = HammingIndex(12, kind="dense").add(np.random.default_rng(0).random((9, 12)) < 0.5)
    none = SparseCodes(np.zeros(1, np.int64), np.zeros(0, np.int32), 12)
    assert dense.search(none, 2)[0].shape == (0, 2) and dense.distance_counts(none).shape[0] == 0
    X = np.random.default_rng(1).random((50, 10)).astype(np.float32)
    fly = FlyHash(k=3, m=40, device="cpu").fit(X)
    with pytest.raises(TypeError):
        fly.encode(X, 16)  # block_rows, packed, out and progress are keyword-only
    masked = da.from_array(X, chunks=(16, 10))[da.from_array(np.arange(50) < 16, chunks=16)]
    lazy = fly.encode(masked)
    expected = fly.encode(X[:16])
    fly.set_params(seed=1).fit(X)
    np.testing.assert_array_equal(lazy.compute(scheduler="synchronous"), expected)
    with pytest.raises(NotFittedError):
        FlyHash(k=3, m=40).code_size_
