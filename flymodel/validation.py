"""Input checks shared by every public entry point, with errors that name the parameter and the value.

Each error names the parameter, the value and what was expected. Each ``check_*`` function returns the value
(converted where said) when it passes, so that a caller can write ``k = check_int(k, "k", minimum=1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
import torch


def check_features(X: Any, name: str = "X", n_features: int | None = None, expected_by: str = "the model") -> np.ndarray:
    """Return X as a finite float32 matrix (n_samples, n_features), or raise a ValueError or TypeError.

    The error says why X is refused. The messages also carry the phrases scikit-learn's estimator checks look for
    (``sklearn.utils.check_array``'s), so that the hashers pass them.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        Real numbers (booleans and integers are converted); a tensor is moved to the CPU first.
    name : str, default "X"
        Name of the argument in the messages.
    n_features : int or None, default None
        Required number of columns; None accepts any.
    expected_by : str, default "the model"
        Who expects `n_features` columns, in the message.

    Returns
    -------
    ndarray of shape (n_samples, n_features), dtype float32
        X, C-contiguous (not a copy when it already was such an array).

    Raises
    ------
    TypeError
        If X is a scipy sparse matrix, cannot be converted to an array, or is not numeric.
    ValueError
        If X is complex, not 2-D, empty, has other than `n_features` columns, or holds NaN or infinite values.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if scipy.sparse.issparse(X):
        raise TypeError(f"{name} is a scipy sparse {type(X).__name__}; sparse input is not supported: expected a "
                        f"dense array ({name}.toarray())")
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and other non-array input
        raise TypeError(f"{name} must be a 2-D numeric array; could not convert {type(X).__name__}: {exc}") from exc
    if arr.dtype == object:  # numbers held as Python objects convert; anything else says what it is
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a numeric array; its dtype object holds a non-number: {exc}") from exc
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} has dtype {arr.dtype}. Complex data not supported; expected real numbers")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric array; got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {arr.shape}. Reshape your data, "
                         f"e.g. {name}.reshape(1, -1) for a single sample")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}; found {arr.shape[0]} sample(s) and {arr.shape[1]} "
                         f"feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features, but {expected_by} is expecting {n_features} features "
                         "as input")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite values; expected finite numbers only")
    return arr


def check_codes(codes: Any, name: str = "codes") -> np.ndarray:
    """Return codes as a boolean matrix (n_items, n_bits) or raise saying why not.

    Parameters
    ----------
    codes : array-like or torch.Tensor of shape (n_items, n_bits), dtype bool
        Hash codes, as returned by a hasher's transform; a tensor is moved to the CPU first.
    name : str, default "codes"
        Name of the argument in the messages.

    Returns
    -------
    ndarray of shape (n_items, n_bits), dtype bool
        The codes (not copied).

    Raises
    ------
    TypeError
        If the dtype is not bool.
    ValueError
        If the codes are not 2-D or are empty.
    """
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().numpy()
    arr = np.asarray(codes)
    if arr.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean matrix (as returned by a hasher's transform); got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_items, n_bits); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    return arr


def check_labels(labels: Any, n: int, name: str = "labels", against: str = "codes") -> np.ndarray:
    """Return labels as an int64 vector of length n or raise saying why not.

    Parameters
    ----------
    labels : array-like of shape (n,)
        Integer class labels.
    n : int
        Required length: the rows of the codes the labels belong to.
    name : str, default "labels"
        Name of the argument in the messages.
    against : str, default "codes"
        Name of what has n rows, in the message.

    Returns
    -------
    ndarray of shape (n,), dtype int64
        The labels.

    Raises
    ------
    ValueError
        If the labels are not 1-D or their length is not n.
    TypeError
        If they are not integers.
    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels; got dtype {arr.dtype}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but {against} has {n} rows; they must match")
    return arr.astype(np.int64, copy=False)


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return value as an int within [minimum, maximum] or raise naming the parameter.

    Parameters
    ----------
    value : object
        The value to check; a Python or numpy integer (bool is refused).
    name : str
        Name of the parameter in the messages.
    minimum : int or None, default None
        Smallest allowed value; None: no lower bound.
    maximum : int or None, default None
        Largest allowed value; None: no upper bound.

    Returns
    -------
    int
        The value.

    Raises
    ------
    TypeError
        If the value is not an integer.
    ValueError
        If it is below `minimum` or above `maximum`.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}={value} is too small; expected {name} >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value} is too large; expected {name} <= {maximum}")
    return int(value)


def check_fraction(value: Any, name: str, low_open: bool = True, high_closed: bool = True) -> float:
    """Return value as a float in (0, 1] (by default) or raise naming the parameter.

    Parameters
    ----------
    value : object
        The value to check; a Python or numpy number (bool is refused).
    name : str
        Name of the parameter in the messages.
    low_open : bool, default True
        Exclude 0 (else allow it).
    high_closed : bool, default True
        Allow 1 (else exclude it).

    Returns
    -------
    float
        The value.

    Raises
    ------
    TypeError
        If the value is not a number.
    ValueError
        If it is not finite or lies outside the interval.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number; got {value!r}")
    v = float(value)
    low_ok = v > 0 if low_open else v >= 0
    high_ok = v <= 1 if high_closed else v < 1
    if not (np.isfinite(v) and low_ok and high_ok):
        interval = ("(" if low_open else "[") + "0, 1" + ("]" if high_closed else ")")
        raise ValueError(f"{name}={value} is outside {interval}")
    return v


def check_choice(value: Any, name: str, choices: tuple[str, ...] | list[str]) -> str:
    """Return value if it is one of choices, else raise a ValueError listing them.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Name of the parameter in the message.
    choices : tuple of str or list of str
        The allowed values (listed sorted in the message).

    Returns
    -------
    str
        The value.

    Raises
    ------
    ValueError
        If the value is not among the choices.
    """
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not known; expected one of: {', '.join(sorted(choices))}")
    return value


def resolve_device(device: str | torch.device) -> torch.device:
    """Map ``"auto"`` to CUDA when available (else CPU); validate any other device string.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or any other torch device string; a torch.device is
        returned as is, unchecked.

    Returns
    -------
    torch.device
        The device.

    Raises
    ------
    ValueError
        If the string is not a torch device, or names a CUDA device when CUDA is not available.
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device; expected 'auto', 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available here; use device='cpu' or 'auto'")
    return dev


def check_percent(value: Any, name: str) -> float:
    """Return a percentage strictly between 0 and 100 (an activity), or raise a ValueError naming it.

    Parameters
    ----------
    value : object
        The value to check; a Python int or float (bool is refused).
    name : str
        Name of the parameter in the message.

    Returns
    -------
    float
        The value.

    Raises
    ------
    ValueError
        If the value is not a number strictly between 0 and 100.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 100:
        raise ValueError(f"{name}={value!r} must be a percentage strictly between 0 and 100")
    return float(value)


def check_values(values: tuple[Any, ...], name: str, allow_empty: bool = False) -> tuple[Any, ...]:
    """Return a tuple without duplicates, non-empty unless allow_empty, or raise a ValueError naming it.

    Parameters
    ----------
    values : tuple
        The values to check (hashable).
    name : str
        Name of the parameter in the messages.
    allow_empty : bool, default False
        Accept an empty tuple.

    Returns
    -------
    tuple
        The values, unchanged.

    Raises
    ------
    ValueError
        If the tuple is empty (unless `allow_empty`) or holds a value twice.
    """
    if not values and not allow_empty:
        raise ValueError(f"{name} is empty; expected at least one value")
    if len(set(values)) != len(values):
        raise ValueError(f"{name}={list(values)} holds duplicates; expected each value once")
    return values


def check_seeds(seeds: tuple[int, ...]) -> tuple[int, ...]:
    """Return seeds if they are distinct integers >= 0, else raise naming the field.

    Parameters
    ----------
    seeds : tuple of int
        The seeds.

    Returns
    -------
    tuple of int
        The seeds, unchanged.

    Raises
    ------
    ValueError
        If there are none, one is repeated, or one is negative.
    TypeError
        If one is not an integer.
    """
    for seed in check_values(seeds, "seeds"):
        check_int(seed, "seeds", minimum=0)
    return seeds
