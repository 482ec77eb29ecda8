"""The fruit-fly olfactory circuit as a similarity-search engine (FlyHash, BioHash, spiking PN→KC→APL).

The ``flymodel`` package exports the hashers (FlyHash, LSH, BioHash, NaiveBioHash, BioConvHash, PCAHash, ITQ,
SpectralHash and CircuitHash, all `Hasher` subclasses, made by name with `make_hasher` and read back with
`load_hasher`), the k-winners-take-all step `kwta`, Hamming search (`hamming_distances`, `search`) and the
retrieval metrics (`mean_average_precision`, `retrieval_scores`).
"""

from importlib import metadata

from flymodel.circuit.kwta import kwta
from flymodel.hashing import (
    ITQ,
    LSH,
    BioConvHash,
    BioHash,
    CircuitHash,
    FlyHash,
    Hasher,
    NaiveBioHash,
    PCAHash,
    SpectralHash,
    load_hasher,
    make_hasher,
)
from flymodel.index import hamming_distances, search
from flymodel.metrics import mean_average_precision, retrieval_scores

try:
    __version__ = metadata.version("flymodel")
except metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["FlyHash", "LSH", "BioHash", "NaiveBioHash", "BioConvHash", "PCAHash", "ITQ", "SpectralHash", "CircuitHash", "Hasher", "load_hasher", "make_hasher", "hamming_distances", "search", "kwta",
           "mean_average_precision", "retrieval_scores", "__version__"]
