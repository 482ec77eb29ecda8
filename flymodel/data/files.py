"""Find the shared data files and check their sha256 sums, so that a missing or corrupt file fails loudly.

The data folder is ``$FLYMODEL_DATA`` if set (``DATA_ENV_VAR`` holds the variable's name), else ../shared/data
beside the checkout. Each file is checked against a copy of its sha256 sum kept in this module, not against the
SHA256SUMS file beside the data, so an edited SHA256SUMS cannot hide a corrupt or substituted file.

Examples
--------
>>> from flymodel.data import DATA_ENV_VAR, data_path
>>> DATA_ENV_VAR
'FLYMODEL_DATA'
>>> path = data_path("hallem_carlson_2006.csv")
>>> path.name, path.is_file()
('hallem_carlson_2006.csv', True)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DATA_ENV_VAR = "FLYMODEL_DATA"

# Copied from shared/data/SHA256SUMS. Checking against this copy, not the SHA256SUMS file beside the data,
# means an edited SHA256SUMS cannot hide a corrupt or substituted data file.
EXPECTED_SHA256: dict[str, str] = {
    "mnist.npz": "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
    "fashion_mnist.npz": "5b6d2c4c694a91887af8ab7d039c04f80af3c29378d731c93a538d2e831aa469",
    "cifar10_jpeg.npz": "69d0ed7bc1268a2305a7504036283dfa16c191ca0fb1d1e56401360066d64fe8",
    "hallem_carlson_2006.csv": "c7ae4195363031cab01856b9f971250c694ffc167f445572a6d121f1df650ac6",
    "hallem_carlson_2006_receptors.csv": "186e51803324e21f45f68ec82cbe223b0d7bffebf127efb5e37af0ec5515aed8",
    "door_response_matrix.csv": "bc2aa5414ff54d3a1399f5fe171e154bcadc754bcf323a3c27711a54f70848e2",
    "door_odor.csv": "a31d1841cf90ce23ec149760a5efa38eae02de7820bb2300c3a7dba221745940",
    "door_mappings.csv": "1197c492e769b1b587c907c5b750ffa2507d7e6c9fe9dfcb2ee8603871e00912",
    "hemibrain_pn_kc.csv": "9a1fdb0680f4d57cc4de1ffd152ad6308785cd6a08f943f5cc1d5a8f76fd8dea",
    "hemibrain_kc_apl.csv": "7b0ddfc0bbac7506901e5aebb486053fe590bca538bd2c94d2045423823fd6a9",
}

_CHECKOUT = Path(__file__).resolve().parents[2]
_VERIFIED: set[tuple[str, int, int]] = set()


class DataFileError(FileNotFoundError):
    """A data file is missing or fails its checksum; a FileNotFoundError so callers can catch either.

    Raised by ``data_path`` and so by every loader of flymodel.data. The message names the file and the folders
    searched and says how to point flymodel at the data, or, for a failed checksum, gives the expected and the
    actual sha256.

    See Also
    --------
    data_path : Finds and verifies a data file.

    Examples
    --------
    A folder without the file:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from flymodel.data import DataFileError, data_path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         data_path("mnist.npz", root=folder)
    ...     except DataFileError as exc:
    ...         print(exc)
    mnist.npz not found. Searched: ... Pass root= a folder that holds it, or set FLYMODEL_DATA to the folder that
    holds the flymodel data files (see Getting started in the documentation), or place ../shared/data beside the
    checkout.

    A file with the right name and the wrong contents:

    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "mnist.npz").write_bytes(b"not the data")
    ...     try:
    ...         data_path("mnist.npz", root=folder)
    ...     except FileNotFoundError as exc:
    ...         print(type(exc).__name__, "|", str(exc).split(": ", 1)[1])
    DataFileError | expected sha256 06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64, actual sha256
    ... The file is corrupt or a different version; re-copy it from the shared data folder.
    """


def data_dirs() -> list[Path]:
    """Return the folders searched for data files, in order: $FLYMODEL_DATA alone if set, else ../shared/data.

    Without ``$FLYMODEL_DATA`` (unset or empty), the folders are shared/data beside the checkout and shared/data beside the current
    working directory, once each.

    Returns
    -------
    list of Path
        The resolved folders, searched in this order.

    See Also
    --------
    data_path : Finds and verifies a data file in these folders.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from flymodel.data import DATA_ENV_VAR, data_dirs
    >>> with mock.patch.dict(os.environ, {DATA_ENV_VAR: "/data/flymodel"}):
    ...     [str(folder) for folder in data_dirs()]
    ['/data/flymodel']
    >>> with mock.patch.dict(os.environ):
    ...     _ = os.environ.pop(DATA_ENV_VAR, None)
    ...     data_dirs()[0].parts[-2:]
    ('shared', 'data')
    """
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return [Path(env).expanduser().resolve()]
    dirs: list[Path] = []
    for candidate in (_CHECKOUT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        resolved = candidate.resolve()
        if resolved not in dirs:
            dirs.append(resolved)
    return dirs


def data_path(filename: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Return the verified path of a known data file, searching root (if given) or ``data_dirs()``.

    The first folder that holds the file wins; its sha256 is checked once per path, size and modification time in
    this process.

    Parameters
    ----------
    filename : str
        A known data file, e.g. ``"mnist.npz"`` or ``"hallem_carlson_2006.csv"``.
    root : str or os.PathLike or None, default None
        The only folder to search; None searches ``data_dirs()``.

    Returns
    -------
    Path
        The file's resolved path.

    Raises
    ------
    ValueError
        If ``filename`` is not a known data file (the message lists them).
    DataFileError
        If no searched folder holds the file, or the file fails its checksum.

    See Also
    --------
    data_dirs : The folders searched without ``root``.

    Examples
    --------
    >>> from flymodel.data import data_path
    >>> data_path("hemibrain_pn_kc.csv").name
    'hemibrain_pn_kc.csv'
    >>> data_path("imagenet.npz")
    Traceback (most recent call last):
        ...
    ValueError: filename='imagenet.npz' is not a known data file; expected one of: cifar10_jpeg.npz, ...
    """
    if filename not in EXPECTED_SHA256:
        known = ", ".join(sorted(EXPECTED_SHA256))
        raise ValueError(f"filename={filename!r} is not a known data file; expected one of: {known}")
    dirs = [Path(root).expanduser().resolve()] if root is not None else data_dirs()
    for directory in dirs:
        path = directory / filename
        if path.is_file():
            _verify(path)
            return path
    searched = ", ".join(str(d) for d in dirs)
    hint = "Pass root= a folder that holds it, or s" if root is not None else "S"
    raise DataFileError(
        f"{filename} not found. Searched: {searched}. {hint}et {DATA_ENV_VAR} to the folder that holds the "
        "flymodel data files (see Getting started in the documentation), or place ../shared/data beside the checkout."
    )


def _sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks so large files need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path) -> None:
    """Check path against its expected sha256 once per (path, size, mtime) in this process."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _VERIFIED:
        return
    expected = EXPECTED_SHA256[path.name]
    actual = _sha256_file(path)
    if actual != expected:
        listed = _listed_sha256(path)
        note = (
            f" The SHA256SUMS beside it lists {listed}, so that folder holds a different version of the data."
            if listed is not None and listed != expected
            else ""
        )
        raise DataFileError(
            f"{path} fails its checksum: expected sha256 {expected}, actual sha256 {actual}. The file is corrupt "
            f"or a different version; re-copy it from the shared data folder.{note}"
        )
    _VERIFIED.add(key)


def _listed_sha256(path: Path) -> str | None:
    """Return the sum that the SHA256SUMS file beside path lists for it, or None; used only to explain a mismatch."""
    try:
        lines = (path.parent / "SHA256SUMS").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == path.name:
            return parts[0]
    return None


def _clear_caches() -> None:
    """Forget which files were verified (for tests that swap files)."""
    _VERIFIED.clear()
