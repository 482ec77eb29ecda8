"""Hashers: estimators that turn feature vectors into boolean codes for Hamming search.

Every hasher is a scikit-learn transformer derived from ``Hasher``: ``fit(X)`` learns or draws the hash function,
``transform(X)`` returns boolean codes, ``encode(X)`` the codes as they are stored, and ``save`` /
``load_hasher`` write and read a fitted hasher. ``METHODS`` maps the command-line names to the classes, and
``make_hasher`` builds one by name.
"""

from flymodel.hashing.base import FORMAT_VERSION, Hasher, NotFittedError
from flymodel.hashing.bioconvhash import BioConvHash
from flymodel.hashing.biohash import BioHash, NaiveBioHash
from flymodel.hashing.circuithash import CircuitHash
from flymodel.hashing.flyhash import FlyHash
from flymodel.hashing.itq import ITQ
from flymodel.hashing.lsh import LSH
from flymodel.hashing.pca import PCAHash
from flymodel.hashing.spectral import SpectralHash

#: Command-line names of the hashers.
METHODS: dict[str, type[Hasher]] = {
    "biohash": BioHash,
    "naivebiohash": NaiveBioHash,
    "bioconvhash": BioConvHash,
    "flyhash": FlyHash,
    "lsh": LSH,
    "pcahash": PCAHash,
    "itq": ITQ,
    "spectralhash": SpectralHash,
    "circuit": CircuitHash,
}


def make_hasher(method: str, **params: object) -> Hasher:
    """Build a hasher by command-line name; unknown names raise a ValueError listing the known ones.

    Parameters
    ----------
    method : str
        A key of ``METHODS``: ``'biohash'``, ``'naivebiohash'``, ``'bioconvhash'``, ``'flyhash'``, ``'lsh'``,
        ``'pcahash'``, ``'itq'``, ``'spectralhash'`` or ``'circuit'``.
    **params : object
        Constructor arguments of that hasher class.

    Returns
    -------
    Hasher
        An unfitted hasher.

    Raises
    ------
    ValueError
        If ``method`` is not a key of ``METHODS``.
    TypeError
        If a parameter is not one of the class's constructor arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing import make_hasher
    >>> hasher = make_hasher("flyhash", k=4, m=64, device="cpu")
    >>> type(hasher).__name__, hasher.k
    ('FlyHash', 4)
    >>> X = np.random.default_rng(0).uniform(size=(10, 8))
    >>> hasher.fit(X).transform(X).sum(axis=1).tolist()
    [4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    >>> make_hasher("simhash")
    Traceback (most recent call last):
        ...
    ValueError: method='simhash' is not known; expected one of: bioconvhash, biohash, circuit, ...
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not known; expected one of: {', '.join(sorted(METHODS))}")
    return METHODS[method](**params)


def load_hasher(path: str) -> Hasher:
    """Load any hasher written by Hasher.save.

    The same as ``Hasher.load(path)``, which also takes a ``device`` that replaces the saved one.

    Parameters
    ----------
    path : str
        A file written by ``Hasher.save`` (any path-like works too).

    Returns
    -------
    Hasher
        The fitted hasher, of the class it was saved from, on its saved device.

    Raises
    ------
    ValueError
        If the file is not a flymodel hasher file, was written in another format version, or holds an unknown
        hasher class.
    OSError
        If the file cannot be read.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from flymodel.hashing import BioHash, load_hasher
    >>> X = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    >>> hasher = BioHash(k=2, m=16, max_epochs=2, batch_size=10, device="cpu").fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "biohash.npz")
    ...     hasher.save(path)
    ...     loaded = load_hasher(path)
    >>> type(loaded).__name__, loaded.is_fitted()
    ('BioHash', True)
    >>> bool((loaded.transform(X) == hasher.transform(X)).all())
    True
    """
    return Hasher.load(path)


__all__ = ["FORMAT_VERSION", "Hasher", "NotFittedError", "BioHash", "NaiveBioHash", "BioConvHash", "FlyHash", "LSH",
           "PCAHash", "ITQ", "SpectralHash", "CircuitHash", "METHODS", "make_hasher", "load_hasher"]
