"""Query images with "shadows" (Ryali et al. 2020, Appendix B, Table 6): 80 % of each image multiplied by 0.3.

The paper does not say which 80 %. Here the shadow is a band of whole columns from the left edge, full height,
every channel: columns [0, round(fraction · W)). On CIFAR-10's 32 × 32 images that is columns 0–25, 26 of 32
columns, 81.25 % of the pixels (the whole-column band nearest to 80 %). Only the query set is shadowed; the
training set, the database and every learned synapse stay as they were.

Examples
--------
>>> from flymodel.data.shadows import describe_shadow
>>> describe_shadow((32, 32, 3))
{'columns': 26, 'width': 32, 'factor': 0.3, 'share_of_pixels': 0.8125}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flymodel.validation import check_fraction

#: Appendix B: the fraction of each image in shadow and the factor its intensities are multiplied by.
SHADOW_FRACTION = 0.8
SHADOW_FACTOR = 0.3


def shadow_width(width: int, fraction: float = SHADOW_FRACTION) -> int:
    """Columns in shadow: round(fraction · width), at least one.

    Parameters
    ----------
    width : int
        The image width W, in columns.
    fraction : float, default SHADOW_FRACTION
        The share of the image in shadow, in (0, 1].

    Returns
    -------
    int
        ``max(1, round(fraction * width))``.

    Raises
    ------
    TypeError
        If ``fraction`` is not a number.
    ValueError
        If ``fraction`` is outside (0, 1].

    Examples
    --------
    >>> from flymodel.data.shadows import shadow_width
    >>> shadow_width(32), shadow_width(28), shadow_width(28, fraction=0.01)
    (26, 22, 1)
    """
    return max(1, int(round(check_fraction(fraction, "fraction") * width)))


def _check_factor(factor: float) -> None:
    if not (isinstance(factor, (int, float)) and np.isfinite(factor) and factor >= 0):
        raise ValueError(f"factor={factor!r} must be a finite number >= 0 (the intensity in shadow)")


def describe_shadow(image_shape: Sequence[int], fraction: float = SHADOW_FRACTION,
                    factor: float = SHADOW_FACTOR) -> dict[str, float | int]:
    """The shadow applied to images of this (H, W, C) shape, for results files and table captions.

    Parameters
    ----------
    image_shape : sequence of int
        The image shape (H, W, C); only W is used.
    fraction : float, default SHADOW_FRACTION
        The share of the image in shadow, in (0, 1].
    factor : float, default SHADOW_FACTOR
        The factor the shadowed intensities are multiplied by, a finite number >= 0.

    Returns
    -------
    dict
        ``columns`` (``shadow_width(W, fraction)``), ``width`` (W), ``factor``, and ``share_of_pixels``, the share
        of columns (and so of pixels) in shadow.

    Raises
    ------
    TypeError
        If ``fraction`` is not a number.
    ValueError
        If ``fraction`` is outside (0, 1], or ``factor`` is not a finite number >= 0.

    Examples
    --------
    >>> from flymodel.data.shadows import describe_shadow
    >>> describe_shadow((28, 28, 1))["columns"], round(describe_shadow((28, 28, 1))["share_of_pixels"], 3)
    (22, 0.786)
    """
    _check_factor(factor)
    columns = shadow_width(image_shape[1], fraction)
    return {"columns": columns, "width": int(image_shape[1]), "factor": factor, "share_of_pixels": columns / image_shape[1]}


def shadow_rows(X: np.ndarray, image_shape: Sequence[int], fraction: float = SHADOW_FRACTION,
                factor: float = SHADOW_FACTOR) -> np.ndarray:
    """A copy of the image rows X with the left columns of every image multiplied by factor.

    The shadow is the left ``shadow_width(W, fraction)`` columns. The rows are flattened C-order (H, W, C) images, as ``ImageDataset.features()`` gives them; the shadow covers
    the full height and every channel.

    Parameters
    ----------
    X : ndarray of shape (n_images, H * W * C)
        The image rows, float pixels such as ``ImageDataset.features()`` returns.
    image_shape : sequence of int
        The image shape (H, W, C).
    fraction : float, default SHADOW_FRACTION
        The share of the image in shadow, in (0, 1].
    factor : float, default SHADOW_FACTOR
        The factor the shadowed intensities are multiplied by, a finite number >= 0.

    Returns
    -------
    ndarray of shape (n_images, H * W * C)
        The shadowed copy, of the dtype of ``X``; ``X`` is unchanged.

    Raises
    ------
    TypeError
        If ``fraction`` is not a number.
    ValueError
        If ``X`` does not hold rows of ``image_shape`` images or is not floating-point, ``factor`` is not a finite
        number >= 0, or ``fraction`` is outside (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.data.shadows import shadow_rows
    >>> X = np.ones((1, 2 * 4 * 1), dtype=np.float32)
    >>> shadow_rows(X, (2, 4, 1), fraction=0.5).reshape(2, 4).round(2).tolist()
    [[0.3, 0.3, 1.0, 1.0], [0.3, 0.3, 1.0, 1.0]]
    """
    height, width, channels = image_shape
    if X.ndim != 2 or X.shape[1] != height * width * channels:
        raise ValueError(f"X of shape {X.shape} does not hold rows of {height}×{width}×{channels} images; "
                         f"expected (n, {height * width * channels})")
    _check_factor(factor)
    if not np.issubdtype(X.dtype, np.floating):  # an integer image times 0.3 would be cast back to 0
        raise ValueError(f"X has dtype {X.dtype}; expected floating-point pixel intensities (features in [0, 1])")
    out = X.reshape(-1, height, width, channels).copy()
    out[:, :, :shadow_width(width, fraction), :] *= out.dtype.type(factor)
    return out.reshape(X.shape)
