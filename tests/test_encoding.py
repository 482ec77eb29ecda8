"""Out-of-core encoding and search on files: flymodel.encoding and the `flymodel fit/encode/search` commands."""

from __future__ import annotations

import numpy as np
import pytest

from flymodel.cli import main
from flymodel.codes import pack_codes
from flymodel.encoding import NpyRows, encode_file, load_model, search_file
from flymodel.hashing import LSH, CircuitHash, FlyHash, Hasher
from flymodel.index import HammingIndex


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    X, Q = rng.random((3000, 20)).astype(np.float32), rng.random((9, 20)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Q.npy", Q)
    return tmp_path, X, Q


def test_npy_rows_reads_the_rows_of_the_file(files):
    tmp_path, X, _ = files
    rows = NpyRows(tmp_path / "X.npy")
    assert len(rows) == 3000 and rows.shape == (3000, 20) and rows.dtype == np.float32
    np.testing.assert_array_equal(rows[17:1030], X[17:1030])
    np.testing.assert_array_equal(rows[2990:5000], X[2990:])
    assert rows[5:5].shape == (0, 20)
    np.save(tmp_path / "v.npy", np.zeros(4))
    with pytest.raises(ValueError, match=r"v.npy holds a float64 array of shape \(4,\); expected a 2-D C-order"):
        NpyRows(tmp_path / "v.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="junk.npy is not an .npy file"):
        NpyRows(tmp_path / "junk.npy")


@pytest.mark.parametrize("method,params", [("flyhash", ["k=4", "m=200"]), ("lsh", ["k=24"])])
def test_fit_encode_search_commands_give_the_python_results(files, method, params, capsys):
    tmp_path, X, Q = files
    sets = [arg for p in params for arg in ("--set", p)]
    assert main(["fit", "--method", method, "--input", str(tmp_path / "X.npy"), *sets,
                 "--output", str(tmp_path / "model.npz")]) == 0
    assert main(["encode", "--model", str(tmp_path / "model.npz"), "--method", method, "--input",
                 str(tmp_path / "X.npy"), "--output", str(tmp_path / "codes.npy"), "--index",
                 str(tmp_path / "index.npz"), "--block-rows", "700", "--quiet"]) == 0
    assert main(["search", "--index", str(tmp_path / "index.npz"), "--queries", str(tmp_path / "Q.npy"),
                 "--model", str(tmp_path / "model.npz"), "-n", "5", "--output", str(tmp_path / "found.npz")]) == 0
    model = Hasher.load(tmp_path / "model.npz")
    codes = model.transform(X)
    expected = np.nonzero(codes)[1].reshape(len(X), -1) if model.sparse else pack_codes(codes)
    np.testing.assert_array_equal(np.load(tmp_path / "codes.npy"), expected)
    D, I = HammingIndex(codes.shape[1]).add(codes).search(model.transform(Q), 5)
    found = np.load(tmp_path / "found.npz")
    np.testing.assert_array_equal(found["distances"], D)
    np.testing.assert_array_equal(found["ids"], I)
    # queries given as stored codes, printed
    np.save(tmp_path / "Qcodes.npy", model.encode(Q))
    capsys.readouterr()
    assert main(["search", "--index", str(tmp_path / "index.npz"), "--queries", str(tmp_path / "Qcodes.npy"),
                 "-n", "5"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "query 0: " + " ".join(f"{i}:{d}" for d, i in zip(D[0], I[0]))


def test_an_interrupted_encode_leaves_no_file(files, monkeypatch):
    tmp_path, X, _ = files
    model = FlyHash(k=4, m=200, device="cpu").fit(X)
    calls = []

    def failing(self, block):
        calls.append(len(block))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, block)

    original = FlyHash.transform
    monkeypatch.setattr(FlyHash, "transform", failing)
    with pytest.raises(KeyboardInterrupt):
        encode_file(model, tmp_path / "X.npy", tmp_path / "codes.npy", block_rows=1000, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Q.npy", "X.npy"]


def test_encode_and_search_errors_name_what_is_wrong(files, capsys):
    tmp_path, X, _ = files
    LSH(k=8, device="cpu").fit(X).save(tmp_path / "lsh.npz")
    with pytest.raises(ValueError, match=r"--model .*lsh.npz holds a LSH, not a FlyHash \(--method flyhash\)"):
        load_model(tmp_path / "lsh.npz", "flyhash")
    with pytest.raises(FileNotFoundError, match="--model .*none.npz: no such file"):
        load_model(tmp_path / "none.npz")
    apl = CircuitHash("drosophila_mb", readout="apl", overrides={"kc.n": 100}, device="cpu")
    rates = np.random.default_rng(1).uniform(0, 150, size=(50, 24)).astype(np.float32)
    np.save(tmp_path / "rates.npy", rates)
    apl.fit(rates)
    with pytest.raises(ValueError, match=r"vary in the number of active units.*\(--packed\)"):
        encode_file(apl, tmp_path / "rates.npy", tmp_path / "apl.npy", progress=False)
    report = encode_file(apl, tmp_path / "rates.npy", tmp_path / "apl.npy", packed=True, progress=False)
    assert report.layout == "packed"
    np.testing.assert_array_equal(np.load(tmp_path / "apl.npy"), pack_codes(apl.transform(rates)))
    encode_file(Hasher.load(tmp_path / "lsh.npz"), tmp_path / "X.npy", tmp_path / "c.npy",
                index=tmp_path / "i.npz", progress=False)
    with pytest.raises(ValueError, match=r"Q.npy holds float32 values; expected stored codes"):
        search_file(tmp_path / "i.npz", tmp_path / "Q.npy", 3)
    np.savez(tmp_path / "q.npz", codes=np.zeros((2, 1), np.uint8))
    with pytest.raises(ValueError, match=r"q.npz is an .npz archive; expected one .npy array of stored codes"):
        search_file(tmp_path / "i.npz", tmp_path / "q.npz", 3)
    with pytest.raises(SystemExit) as exited:
        main(["encode", "--model", str(tmp_path / "lsh.npz"), "--method", "flyhash", "--input",
              str(tmp_path / "X.npy"), "--output", str(tmp_path / "o.npy")])
    assert exited.value.code == 2 and "holds a LSH, not a FlyHash" in capsys.readouterr().err
    assert not (tmp_path / "o.npy").exists()
