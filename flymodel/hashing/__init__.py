"""Hashers: estimators that turn feature vectors into boolean codes for Hamming search."""

from flymodel.hashing.base import FORMAT_VERSION, Hasher, NotFittedError
from flymodel.hashing.biohash import BioHash
from flymodel.hashing.flyhash import FlyHash
from flymodel.hashing.lsh import LSH

#: Command-line names of the hashers.
METHODS: dict[str, type[Hasher]] = {"biohash": BioHash, "flyhash": FlyHash, "lsh": LSH}


def make_hasher(method: str, **params: object) -> Hasher:
    """Build a hasher by command-line name; unknown names raise a ValueError listing the known ones."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not known; expected one of: {', '.join(sorted(METHODS))}")
    return METHODS[method](**params)


def load_hasher(path: str) -> Hasher:
    """Load any hasher written by Hasher.save."""
    return Hasher.load(path)


__all__ = ["FORMAT_VERSION", "Hasher", "NotFittedError", "BioHash", "FlyHash", "LSH", "METHODS", "make_hasher", "load_hasher"]
