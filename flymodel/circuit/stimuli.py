"""PN firing rates for a circuit's stimuli: Hallem & Carlson odours (ORN → PN), images (pixel → rate), or i.i.d.
Gaussian patterns (theory-style inputs, as in Litwin-Kumar et al. 2017)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.glomeruli import glomerulus_odours
from flymodel.data import load_dataset, load_hallem_carlson, load_hemibrain
from flymodel.validation import check_features


@dataclass(frozen=True, eq=False)
class Stimuli:
    """Named stimuli as PN rates in Hz (n_stimuli × n_pn), with class labels where the source has them."""

    names: tuple[str, ...]
    rates_hz: np.ndarray
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return self.rates_hz.shape[0]

    def subset(self, index: np.ndarray | slice) -> Stimuli:
        """The stimuli at the given rows."""
        rows = np.arange(len(self))[index]
        return Stimuli(tuple(self.names[i] for i in rows), self.rates_hz[rows],
                       None if self.labels is None else self.labels[rows])


def olsen_pn_rates(orn_hz: np.ndarray, r_max: float, sigma: float, m: float) -> np.ndarray:
    """ORN → PN divisive normalisation (Olsen, Bhandawat & Wilson 2010, Neuron 66:287, Fig. 7 model).

    PN = R_max · ORN^1.5 / (σ^1.5 + ORN^1.5 + (m · Σ_glomeruli ORN)^1.5), per odour (row).
    """
    orn = np.maximum(np.asarray(orn_hz, dtype=float), 0.0)
    lateral = (m * orn.sum(axis=1, keepdims=True)) ** 1.5
    return r_max * orn ** 1.5 / (sigma ** 1.5 + orn ** 1.5 + lateral)


def odour_stimuli(spec: CircuitSpec, root: str | os.PathLike[str] | None = None) -> Stimuli:
    """The 110 Hallem & Carlson (2006) odours as PN rates: absolute ORN rates, then the spec's ORN → PN transform; on
    the connectome's glomeruli when [inputs] channels = 'glomeruli' (flymodel.circuit.glomeruli)."""
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
    """PN rates from ORN rates (Hz) by the spec's transform: 'linear' (PN = ORN) or 'olsen2010'."""
    if spec.inputs.transform == "olsen2010":
        return olsen_pn_rates(orn_hz, spec.inputs.max_rate_hz, spec.inputs.olsen_sigma_hz, spec.inputs.olsen_m)
    return np.asarray(orn_hz, dtype=float)


def image_rates(spec: CircuitSpec, images: np.ndarray) -> np.ndarray:
    """Pixels (uint8 0–255, or floats in [0, 1]) → PN rates: max_rate_hz × intensity, one PN per pixel."""
    flat = np.asarray(images).reshape(len(images), -1)
    scale = 255.0 if flat.dtype == np.uint8 else 1.0
    flat = check_features(flat, "images", n_features=spec.inputs.n,
                          expected_by=f"circuit {spec.name!r} ([inputs] n)").astype(float) / scale
    if flat.min() < 0 or flat.max() > 1:
        raise ValueError(f"images hold intensities in [{flat.min()}, {flat.max()}]; expected uint8 or floats in [0, 1]")
    return spec.inputs.max_rate_hz * flat


def feature_rates(spec: CircuitSpec, X: np.ndarray, name: str = "X") -> np.ndarray:
    """PN rates (Hz) for feature rows as the spec's input source reads them, so that any data set can drive a circuit.

    Image sources: intensities in [0, 1] (image_rates); hallem_carlson: ORN rates in Hz, then the spec's ORN → PN
    transform; gaussian: the PN rates themselves (Hz, >= 0). One feature per PN: X must have inputs.n columns.
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
    """inputs.count patterns of i.i.d. PN rates max(0, N(μ, σ²)) from inputs.seed.

    The rectification at 0 Hz is a deviation from a pure Gaussian: a firing rate cannot be negative, and the spiking
    engine needs rates >= 0. With μ ≥ 3σ it touches fewer than 0.2 % of the rates.
    """
    i = spec.inputs
    if i.source != "gaussian" or i.count < 1:
        raise ValueError(f"{spec.source}: gaussian stimuli need [inputs] source = 'gaussian' and count >= 1; got "
                         f"source = {i.source!r}, count = {i.count}")
    rates = np.random.default_rng(i.seed).normal(i.mean_hz, i.std_hz, size=(i.count, i.n))
    return Stimuli(tuple(f"gaussian[{j}]" for j in range(i.count)), np.maximum(rates, 0.0))


def circuit_stimuli(spec: CircuitSpec, n: int | None = None, seed: int = 0,
                    root: str | os.PathLike[str] | None = None) -> Stimuli:
    """The stimuli of the spec's input source: all odours or gaussian patterns (the first n if given), or n images
    (seeded random choice; default 100)."""
    if spec.inputs.source in ("hallem_carlson", "gaussian"):
        stimuli = odour_stimuli(spec, root) if spec.inputs.source == "hallem_carlson" else gaussian_stimuli(spec)
        return stimuli if n is None else stimuli.subset(slice(0, n))
    data = load_dataset(spec.inputs.source, root)
    rows = np.sort(np.random.default_rng(seed).choice(len(data.labels), size=n or 100, replace=False))
    return Stimuli(tuple(f"{data.name}[{r}]" for r in rows), image_rates(spec, data.images[rows]), data.labels[rows])
