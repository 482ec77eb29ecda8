"""Query images with "shadows" (Ryali et al. 2020, Appendix B, Table 6): 80 % of each image multiplied by 0.3.

The paper does not say which 80 %. Here the shadow is a band of whole columns from the left edge, full height,
every channel: columns [0, round(fraction · W)). On CIFAR-10's 32 × 32 images that is columns 0–25, 26 of 32
columns, 81.25 % of the pixels (the whole-column band nearest to 80 %). Only the query set is shadowed; the
training set, the database and every learned synapse stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flymodel.validation import check_fraction

#: Appendix B: the fraction of each image in shadow and the factor its intensities are multiplied by.
SHADOW_FRACTION = 0.8
SHADOW_FACTOR = 0.3


def shadow_width(width: int, fraction: float = SHADOW_FRACTION) -> int:
    """Columns in shadow: round(fraction · width), at least one."""
    return max(1, int(round(check_fraction(fraction, "fraction") * width)))


def describe_shadow(image_shape: Sequence[int], fraction: float = SHADOW_FRACTION,
                    factor: float = SHADOW_FACTOR) -> dict[str, float | int]:
    """The shadow applied to images of this (H, W, C) shape, for results files and table captions."""
    columns = shadow_width(image_shape[1], fraction)
    return {"columns": columns, "width": int(image_shape[1]), "factor": factor, "share_of_pixels": columns / image_shape[1]}


def shadow_rows(X: np.ndarray, image_shape: Sequence[int], fraction: float = SHADOW_FRACTION,
                factor: float = SHADOW_FACTOR) -> np.ndarray:
    """A copy of the image rows X (flattened C-order (H, W, C), as ImageDataset.features() gives them) with the
    left shadow_width(W, fraction) columns of every image multiplied by factor."""
    height, width, channels = image_shape
    if X.ndim != 2 or X.shape[1] != height * width * channels:
        raise ValueError(f"X of shape {X.shape} does not hold rows of {height}×{width}×{channels} images; "
                         f"expected (n, {height * width * channels})")
    if not (isinstance(factor, (int, float)) and np.isfinite(factor) and factor >= 0):
        raise ValueError(f"factor={factor!r} must be a finite number >= 0 (the intensity in shadow)")
    out = X.reshape(-1, height, width, channels).copy()
    out[:, :, :shadow_width(width, fraction), :] *= out.dtype.type(factor)
    return out.reshape(X.shape)
