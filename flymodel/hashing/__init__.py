"""Hashers: estimators that turn feature vectors into boolean codes for Hamming search."""

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
    """Build a hasher by command-line name; unknown names raise a ValueError listing the known ones."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not known; expected one of: {', '.join(sorted(METHODS))}")
    return METHODS[method](**params)


def load_hasher(path: str) -> Hasher:
    """Load any hasher written by Hasher.save."""
    return Hasher.load(path)


__all__ = ["FORMAT_VERSION", "Hasher", "NotFittedError", "BioHash", "NaiveBioHash", "BioConvHash", "FlyHash", "LSH",
           "PCAHash", "ITQ", "SpectralHash", "CircuitHash", "METHODS", "make_hasher", "load_hasher"]
