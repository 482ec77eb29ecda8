"""PN firing rates for a circuit's stimuli: odours, images or i.i.d. Gaussian patterns.

Hallem & Carlson odours (ORN → PN), images (pixel → rate), or i.i.d. Gaussian patterns (theory-style inputs, as in
Litwin-Kumar et al. 2017).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.glomeruli import glomerulus_odours
from flymodel.data import load_dataset, load_hallem_carlson, load_hemibrain
from flymodel.validation import check_features, check_int


@dataclass(frozen=True, eq=False)
class Stimuli:
    """Named stimuli as PN rates in Hz (n_stimuli × n_pn), with class labels where the source has them.

    ``len(stimuli)`` is the number of stimuli.

    Attributes
    ----------
    names : tuple of str
        One name per stimulus (an odour, ``"mnist[123]"``, ``"gaussian[0]"``).
    rates_hz : ndarray of shape (n_stimuli, n_pn)
        PN firing rates (Hz).
    labels : ndarray of shape (n_stimuli,) or None, default None
        Class labels (images), or None (odours, Gaussian patterns).

    See Also
    --------
    circuit_stimuli : The stimuli of a circuit's input source.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit import Stimuli
    >>> stimuli = Stimuli(("a", "b", "c"), np.array([[10.0, 0.0], [5.0, 5.0], [0.0, 20.0]]), np.array([0, 1, 1]))
    >>> len(stimuli)
    3
    >>> later = stimuli.subset(slice(1, 3))
    >>> later.names, later.labels
    (('b', 'c'), array([1, 1]))
    >>> later.rates_hz
    array([[ 5.,  5.],
           [ 0., 20.]])
    """

    names: tuple[str, ...]
    rates_hz: np.ndarray
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return self.rates_hz.shape[0]

    def subset(self, index: np.ndarray | slice) -> Stimuli:
        """The stimuli at the given rows.

        Parameters
        ----------
        index : ndarray or slice
            Rows to keep: a slice, integer indices or a boolean mask of length ``len(self)``.

        Returns
        -------
        Stimuli
            Those stimuli, with their names, rates and labels, in the order of ``index``.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.circuit import Stimuli
        >>> stimuli = Stimuli(("a", "b", "c"), np.array([[10.0, 0.0], [5.0, 5.0], [0.0, 20.0]]))
        >>> stimuli.subset(np.array([2, 0])).names
        ('c', 'a')
        """
        rows = np.arange(len(self))[index]
        return Stimuli(tuple(self.names[i] for i in rows), self.rates_hz[rows],
                       None if self.labels is None else self.labels[rows])


def olsen_pn_rates(orn_hz: np.ndarray, r_max: float, sigma: float, m: float) -> np.ndarray:
    """ORN → PN divisive normalisation (Olsen, Bhandawat & Wilson 2010, Neuron 66:287, Fig. 7 model).

    PN = R_max · ORN^1.5 / (σ^1.5 + ORN^1.5 + (m · Σ_glomeruli ORN)^1.5), per odour (row). Negative ORN rates are
    clipped to 0.

    Parameters
    ----------
    orn_hz : ndarray of shape (n_odours, n_channels)
        ORN firing rates (Hz), one row per odour.
    r_max : float
        The largest PN rate R_max (Hz).
    sigma : float
        The semi-saturation constant σ (Hz).
    m : float
        The weight of the lateral suppression by the total ORN input of the odour.

    Returns
    -------
    ndarray of shape (n_odours, n_channels)
        PN firing rates (Hz).

    Examples
    --------
    The same ORN rate gives a smaller PN rate when the other channels are strongly driven too:

    >>> import numpy as np
    >>> from flymodel.circuit.stimuli import olsen_pn_rates
    >>> olsen_pn_rates(np.array([[10.0, 0.0, 0.0], [10.0, 50.0, 200.0]]), r_max=165.0, sigma=12.0, m=0.05).round(1)
    array([[ 70.9,   0. ,   0. ],
           [ 43.5, 132. , 160. ]])
    """
    orn = np.maximum(np.asarray(orn_hz, dtype=float), 0.0)
    lateral = (m * orn.sum(axis=1, keepdims=True)) ** 1.5
    return r_max * orn ** 1.5 / (sigma ** 1.5 + orn ** 1.5 + lateral)


def odour_stimuli(spec: CircuitSpec, root: str | os.PathLike[str] | None = None) -> Stimuli:
    """The 110 Hallem & Carlson (2006) odours as PN rates: absolute ORN rates, then the spec's ORN → PN transform.

    On the 24 receptors, or on the connectome's glomeruli when ``[inputs] channels = 'glomeruli'``
    (``flymodel.circuit.glomeruli``).

    Parameters
    ----------
    spec : CircuitSpec
        The circuit; ``[inputs] n`` must equal the number of channels (24 receptors, or the connectome's glomeruli).
    root : str or os.PathLike or None, default None
        Folder of the data files; None searches ``$FLYMODEL_DATA``, then ../shared/data.

    Returns
    -------
    Stimuli
        The odours by name, with PN rates (Hz) of shape (110, n_pn) and no labels.

    Raises
    ------
    ValueError
        If ``[inputs] n`` does not match the number of channels.
    FileNotFoundError
        If a data file is missing or fails its checksum (``flymodel.data.files.DataFileError``).

    Examples
    --------
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.stimuli import odour_stimuli
    >>> odours = odour_stimuli(load_circuit("drosophila_mb"))
    >>> len(odours), odours.rates_hz.shape, odours.names[3]
    (110, (110, 24), 'g-butyrolactone')
    """
    if spec.inputs.channels == "glomeruli":
        glomeruli = load_hemibrain(root, spec.kc.min_synapses).glomeruli
        if spec.inputs.n != len(glomeruli):
            raise ValueError(f"{spec.source}: [inputs] n = {spec.inputs.n}, but the {spec.kc.connectome} connectome has "
                             f"{len(glomeruli)} glomeruli; set n = {len(glomeruli)} for glomerular odour channels")
        odours = glomerulus_odours(glomeruli, spec.inputs.glomerulus_drive, root)
        return Stimuli(odours.odours, orn_to_pn_rates(spec, odours.rates_hz))
    table = load_hallem_carlson(root)
    if spec.inputs.n != len(table.receptors):
        raise ValueError(f"{spec.source}: [inputs] n = {spec.inputs.n}, but the Hallem & Carlson table has "
                         f"{len(table.receptors)} receptors; set n = {len(table.receptors)} for odour inputs")
    return Stimuli(table.odours, orn_to_pn_rates(spec, table.absolute_rates()))


def orn_to_pn_rates(spec: CircuitSpec, orn_hz: np.ndarray) -> np.ndarray:
    """PN rates from ORN rates (Hz) by the spec's transform: ``'linear'`` (PN = ORN) or ``'olsen2010'``.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit; ``[inputs] transform`` picks the transform and ``max_rate_hz``, ``olsen_sigma_hz`` and
        ``olsen_m`` are the constants of ``olsen_pn_rates``.
    orn_hz : ndarray of shape (n_odours, n_channels)
        ORN firing rates (Hz).

    Returns
    -------
    ndarray of shape (n_odours, n_channels), dtype float64
        PN firing rates (Hz).

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.stimuli import orn_to_pn_rates
    >>> spec = load_circuit("drosophila_mb")
    >>> orn = np.array([[10.0, 50.0, 200.0]])
    >>> orn_to_pn_rates(spec, orn)
    array([[ 10.,  50., 200.]])
    >>> orn_to_pn_rates(spec.replace(**{"inputs.transform": "olsen2010"}), orn).round(1)
    array([[ 43.5, 132. , 160. ]])
    """
    if spec.inputs.transform == "olsen2010":
        return olsen_pn_rates(orn_hz, spec.inputs.max_rate_hz, spec.inputs.olsen_sigma_hz, spec.inputs.olsen_m)
    return np.asarray(orn_hz, dtype=float)


def image_rates(spec: CircuitSpec, images: np.ndarray) -> np.ndarray:
    """Pixels (uint8 0–255, or floats in [0, 1]) → PN rates: max_rate_hz × intensity, one PN per pixel.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit; ``[inputs] n`` must equal the number of pixels per image.
    images : ndarray of shape (n_images, ...)
        Images of any shape (flattened to one row each), uint8 in 0..255 or floats in [0, 1].

    Returns
    -------
    ndarray of shape (n_images, n_pn), dtype float64
        PN firing rates (Hz), ``[inputs] max_rate_hz`` for a fully on pixel.

    Raises
    ------
    ValueError
        If the number of pixels is not ``[inputs] n``, or a float intensity lies outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.stimuli import image_rates
    >>> spec = load_circuit("mnist_kc").replace(**{"inputs.n": 4})
    >>> image_rates(spec, np.array([[[0, 255], [51, 102]]], dtype=np.uint8))
    array([[ 0., 50., 10., 20.]])
    """
    flat = np.asarray(images).reshape(len(images), -1)
    scale = 255.0 if flat.dtype == np.uint8 else 1.0
    flat = check_features(flat, "images", n_features=spec.inputs.n,
                          expected_by=f"circuit {spec.name!r} ([inputs] n)").astype(float) / scale
    if flat.min() < 0 or flat.max() > 1:
        raise ValueError(f"images hold intensities in [{flat.min()}, {flat.max()}]; expected uint8 or floats in [0, 1]")
    return spec.inputs.max_rate_hz * flat


def feature_rates(spec: CircuitSpec, X: np.ndarray, name: str = "X") -> np.ndarray:
    """PN rates (Hz) for feature rows as the spec's input source reads them, so that any data set can drive a circuit.

    Image sources: intensities in [0, 1] (``image_rates``); hallem_carlson: ORN rates in Hz, then the spec's
    ORN → PN transform; gaussian: the PN rates themselves (Hz, >= 0). One feature per PN: X must have inputs.n
    columns.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit; ``[inputs] source`` says how the features are read.
    X : array-like of shape (n_samples, n_pn)
        Feature rows.
    name : str, default "X"
        The name of ``X`` in error messages.

    Returns
    -------
    ndarray of shape (n_samples, n_pn), dtype float64
        PN firing rates (Hz).

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-d array with ``[inputs] n`` columns, holds a negative rate (odour and Gaussian
        sources), or an intensity outside [0, 1] (image sources).
    TypeError
        If ``X`` is not numeric.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.stimuli import feature_rates
    >>> spec = load_circuit("litwin_kumar_2017")
    >>> X = np.random.default_rng(0).uniform(0.0, 40.0, size=(5, 50))
    >>> feature_rates(spec, X).shape
    (5, 50)
    >>> feature_rates(spec, -X)
    Traceback (most recent call last):
    ...
    ValueError: X holds a negative value (...); gaussian inputs are firing rates in Hz, expected >= 0
    """
    X = check_features(X, name)
    if X.shape[1] != spec.inputs.n:
        raise ValueError(f"{name} has {X.shape[1]} features; circuit {spec.name!r} has [inputs] n = {spec.inputs.n} "
                         f"PNs, one per feature")
    if spec.inputs.source in ("mnist", "fashion_mnist"):
        return image_rates(spec, X)
    rates = X.astype(float)
    if rates.min() < 0:
        raise ValueError(f"{name} holds a negative value ({rates.min()}); {spec.inputs.source} inputs are firing rates "
                         f"in Hz, expected >= 0")
    return orn_to_pn_rates(spec, rates) if spec.inputs.source == "hallem_carlson" else rates


def gaussian_stimuli(spec: CircuitSpec) -> Stimuli:
    """The spec's ``inputs.count`` patterns of i.i.d. PN rates max(0, N(μ, σ²)), drawn from ``inputs.seed``.

    μ and σ are ``[inputs] mean_hz`` and ``std_hz``; the patterns do not depend on ``[simulation] seed``.

    Parameters
    ----------
    spec : CircuitSpec
        A circuit with ``[inputs] source = 'gaussian'``.

    Returns
    -------
    Stimuli
        Patterns named ``"gaussian[j]"``, with PN rates (Hz) of shape (count, n_pn) and no labels.

    Raises
    ------
    ValueError
        If the spec's source is not ``'gaussian'`` or its count is below 1.

    Notes
    -----
    The rectification at 0 Hz is a deviation from a pure Gaussian: a firing rate cannot be negative, and the spiking
    engine needs rates >= 0. With μ ≥ 3σ it touches fewer than 0.2 % of the rates.

    Examples
    --------
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.stimuli import gaussian_stimuli
    >>> spec = load_circuit("litwin_kumar_2017").replace(**{"inputs.count": 100})
    >>> patterns = gaussian_stimuli(spec)
    >>> patterns.rates_hz.shape, patterns.names[0], bool(patterns.rates_hz.min() >= 0)
    ((100, 50), 'gaussian[0]', True)
    """
    i = spec.inputs
    if i.source != "gaussian" or i.count < 1:
        raise ValueError(f"{spec.source}: gaussian stimuli need [inputs] source = 'gaussian' and count >= 1; got "
                         f"source = {i.source!r}, count = {i.count}")
    rates = np.random.default_rng(i.seed).normal(i.mean_hz, i.std_hz, size=(i.count, i.n))
    return Stimuli(tuple(f"gaussian[{j}]" for j in range(i.count)), np.maximum(rates, 0.0))


def circuit_stimuli(spec: CircuitSpec, n: int | None = None, seed: int = 0,
                    root: str | os.PathLike[str] | None = None) -> Stimuli:
    """The stimuli of the spec's input source: all odours or Gaussian patterns (the first n if given), or n images.

    Images are a seeded random choice without replacement from the data set (default 100), in index order.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit; ``[inputs] source`` picks the stimuli and their conversion to PN rates.
    n : int or None, default None
        Odours and Gaussian patterns: keep the first n (None keeps all); images: how many to draw (None: 100).
    seed : int, default 0
        Seed of the choice of images (unused for other sources).
    root : str or os.PathLike or None, default None
        Folder of the data files; None searches ``$FLYMODEL_DATA``, then ../shared/data.

    Returns
    -------
    Stimuli
        Names and PN rates (Hz) of shape (n_stimuli, n_pn); image labels, or None.

    Raises
    ------
    ValueError
        If ``n`` < 1, ``[inputs] n`` does not match the source's channels or pixels, or n exceeds the number of
        images.
    TypeError
        If ``n`` is not an integer.
    FileNotFoundError
        If a data file is missing or fails its checksum (``flymodel.data.files.DataFileError``).

    See Also
    --------
    flymodel.circuit.feature_rates : PN rates for one's own feature rows.

    Examples
    --------
    The Hallem & Carlson odours as PN rates of the fly circuit:

    >>> from flymodel.circuit import circuit_stimuli, load_circuit
    >>> odours = circuit_stimuli(load_circuit("drosophila_mb"))
    >>> len(odours), odours.rates_hz.shape, odours.labels is None
    (110, (110, 24), True)
    >>> odours.names[:3]
    ('ammonium hydroxide', 'putrescine', 'cadaverine')

    Five MNIST digits as 784 PN rates (a fully on pixel fires at ``max_rate_hz``), with their labels:

    >>> digits = circuit_stimuli(load_circuit("mnist_kc"), n=5, seed=0)
    >>> digits.rates_hz.shape, float(digits.rates_hz.max()), digits.labels.shape
    ((5, 784), 50.0, (5,))
    """
    if n is not None:
        check_int(n, "n", minimum=1)  # n=0 would give no stimuli (and once drew the default 100 images)
    if spec.inputs.source in ("hallem_carlson", "gaussian"):
        stimuli = odour_stimuli(spec, root) if spec.inputs.source == "hallem_carlson" else gaussian_stimuli(spec)
        return stimuli if n is None else stimuli.subset(slice(0, n))
    data = load_dataset(spec.inputs.source, root)
    rows = np.sort(np.random.default_rng(seed).choice(len(data.labels), size=100 if n is None else n, replace=False))
    return Stimuli(tuple(f"{data.name}[{r}]" for r in rows), image_rates(spec, data.images[rows]), data.labels[rows])
