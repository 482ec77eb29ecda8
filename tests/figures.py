"""Figure comparison for the redraw tests: a figure redrawn from results.json must be the figure first drawn.

Measured here (matplotlib 3.11, Agg, the same process): a redraw writes byte-identical PNGs (maximum pixel difference
0.0) and PDFs that differ only in their /CreationDate entry. So PNG pixels are compared exactly (PIXEL_ATOL = 0) and
PDFs byte for byte with that one entry masked; any change of the plotted data (another run's numbers, two series
swapped, a point moved by a fraction of a pixel's antialiasing) changes pixels and fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

#: Largest allowed difference of one PNG channel (0–1 scale) between a figure and its redraw: Agg is deterministic.
PIXEL_ATOL = 0.0
FIGURE_SUFFIXES = (".png", ".pdf")
_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:[^)]*\)")


def figure_files(folder: Path) -> list[str]:
    """Names of the PNG and PDF files in a folder, sorted."""
    return sorted(p.name for p in Path(folder).iterdir() if p.suffix in FIGURE_SUFFIXES)


def pixel_difference(first: Path, second: Path) -> tuple[float, int]:
    """(largest channel difference, number of pixels that differ) between two PNGs of the same shape."""
    a, b = mpimg.imread(first), mpimg.imread(second)
    assert a.shape == b.shape, f"{second.name}: {b.shape} pixels, the first drawing has {a.shape}"
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return float(diff.max()), int((diff.max(axis=-1) > PIXEL_ATOL).sum())


def assert_same_figures(first: Path, second: Path, names: Iterable[str] | None = None) -> None:
    """The PNG and PDF files of folder `second` are those of folder `first`: the same names (or exactly `names`), PNGs
    equal pixel for pixel (to PIXEL_ATOL), PDFs equal byte for byte but for their creation date."""
    first, second = Path(first), Path(second)
    expected = figure_files(first) if names is None else sorted(names)
    assert expected, f"no figures in {first}"
    assert figure_files(first) == expected, f"{first} holds {figure_files(first)}, expected {expected}"
    assert figure_files(second) == expected, f"{second} holds {figure_files(second)}, expected {expected}"
    for name in sorted(expected, key=lambda n: not n.endswith(".png")):  # pixels first: the clearer message
        if name.endswith(".png"):
            largest, n_pixels = pixel_difference(first / name, second / name)
            assert largest <= PIXEL_ATOL, f"{name}: {n_pixels} pixels differ, by up to {largest:.3g}"
        else:
            a, b = (_PDF_DATE.sub(b"", (folder / name).read_bytes()) for folder in (first, second))
            assert a == b, f"{name}: the PDFs differ beyond their creation date"
