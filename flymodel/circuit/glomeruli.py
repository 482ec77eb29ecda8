"""Odours on glomerular channels, for circuits wired from a connectome.

ORN rates (Hz) of the 110 Hallem & Carlson odours in each of the connectome's glomeruli, from the receptor that
innervates it:

- 'hallem_carlson': a glomerulus whose Hallem & Carlson receptor names it takes that receptor's absolute rate
  (21 hemibrain glomeruli: 22 of the 24 receptors name one, and the hemibrain splits Or35a's VC3 into VC3l and VC3m);
- 'hallem_carlson+door': the other glomeruli that door_mappings.csv maps a DoOR unit to take that unit's DoOR
  response to the same odour (matched by name), converted to Hz by a linear fit of DoOR's normalised responses to
  Hallem & Carlson's absolute rates over the receptors and odours both hold (DoOR includes Hallem & Carlson among its
  sources, so the fit is partly circular: it sets the scale, not an independent check);
- every glomerulus left without a response fires at the mean spontaneous rate of the 24 Hallem & Carlson receptors
  (for DoOR glomeruli whose odour DoOR lacks: the unit's DoOR spontaneous rate, converted alike).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from flymodel.circuit.spec import GLOMERULUS_DRIVES
from flymodel.data import load_door, load_hallem_carlson

#: Hallem & Carlson odour names → DoOR names, where they differ only in spelling (Greek prefixes, spacing, synonyms).
_PREFIXES = {"a": "alpha", "b": "beta", "g": "gamma", "d": "delta"}
_SYNONYMS = {"propionic acid": "propanoic acid", "4-ethyl guaiacol": "4-ethylguaiacol"}


@dataclass(frozen=True, eq=False)
class GlomerulusOdours:
    """ORN rates (Hz, odours × glomeruli) and, per glomerulus, where its rates come from.

    Attributes
    ----------
    odours : tuple of str
        The 110 Hallem & Carlson odour names.
    glomeruli : tuple of str
        The glomerulus names, one per column of ``rates_hz``.
    rates_hz : ndarray of shape (n_odours, n_glomeruli)
        ORN rates (Hz), >= 0.
    origin : tuple of str
        Per glomerulus: ``'hallem_carlson'``, ``'door'`` or ``'spontaneous'``.
    door_fit : dict
        Hz = slope · DoOR + intercept: ``slope``, ``intercept``, their correlation ``r`` and the number of
        (odour, receptor) ``pairs`` fitted; empty for the ``'hallem_carlson'`` drive.
    """

    odours: tuple[str, ...]
    glomeruli: tuple[str, ...]
    rates_hz: np.ndarray
    origin: tuple[str, ...]  # per glomerulus: 'hallem_carlson', 'door' or 'spontaneous'
    door_fit: dict[str, float]  # Hz = slope · DoOR + intercept, its correlation and the pairs it was fitted on


def door_name(hallem_name: str) -> str:
    """The DoOR spelling of a Hallem & Carlson odour name (e.g. ``'g-hexalactone'`` → ``'gamma-hexalactone'``).

    Lower case, Greek prefixes spelt out, and a few synonyms.

    Parameters
    ----------
    hallem_name : str
        An odour name as the Hallem & Carlson table spells it.

    Returns
    -------
    str
        The name as DoOR spells it (matched case-insensitively against DoOR's odour names).

    Examples
    --------
    >>> from flymodel.circuit.glomeruli import door_name
    >>> door_name("g-hexalactone"), door_name("b-citronellol"), door_name("propionic acid")
    ('gamma-hexalactone', 'beta-citronellol', 'propanoic acid')
    """
    name = hallem_name.lower().strip()
    name = re.sub(r"^([abgd]) ?-", lambda m: _PREFIXES[m.group(1)] + "-", name)
    return _SYNONYMS.get(name, name)


def glomerulus_odours(glomeruli: tuple[str, ...], drive: str,
                      root: str | os.PathLike[str] | None = None) -> GlomerulusOdours:
    """The 110 Hallem & Carlson odours as ORN rates in the given glomeruli.

    How each glomerulus is driven is described in the module docstring (``flymodel.circuit.glomeruli``).

    Parameters
    ----------
    glomeruli : tuple of str
        Glomerulus names, e.g. a connectome's (``flymodel.data.load_hemibrain(...).glomeruli``).
    drive : {"hallem_carlson", "hallem_carlson+door"}
        Which tables drive the glomeruli.
    root : str or os.PathLike or None, default None
        Folder of the data files; None searches ``$FLYMODEL_DATA``, then ../shared/data.

    Returns
    -------
    GlomerulusOdours
        The rates (110 × n_glomeruli) and where each glomerulus's rates come from.

    Raises
    ------
    ValueError
        If ``drive`` is not known.
    FileNotFoundError
        If a data file is missing or fails its checksum (``flymodel.data.files.DataFileError``).

    Examples
    --------
    >>> from flymodel.circuit.glomeruli import glomerulus_odours
    >>> from flymodel.data import load_hemibrain
    >>> glomeruli = load_hemibrain().glomeruli
    >>> odours = glomerulus_odours(glomeruli, "hallem_carlson+door")
    >>> odours.rates_hz.shape
    (110, 60)
    >>> [odours.origin.count(origin) for origin in ("hallem_carlson", "door", "spontaneous")]
    [21, 27, 12]
    """
    if drive not in GLOMERULUS_DRIVES:
        raise ValueError(f"glomerulus drive {drive!r} is not known; expected one of: {', '.join(GLOMERULUS_DRIVES)}")
    hallem = load_hallem_carlson(root)
    absolute = hallem.absolute_rates()
    spontaneous = float(np.mean(hallem.spontaneous_hz))
    rates = np.full((len(hallem.odours), len(glomeruli)), spontaneous)
    origin = ["spontaneous"] * len(glomeruli)
    column = {g: i for i, g in enumerate(glomeruli)}
    for r, glomerulus in enumerate(hallem.glomeruli):
        if glomerulus in column:
            rates[:, column[glomerulus]] = absolute[:, r]
            origin[column[glomerulus]] = "hallem_carlson"
    fit: dict[str, float] = {}
    if drive == "hallem_carlson+door":
        door = load_door(root)
        fit = _door_to_hz(hallem, door)
        names = {n.lower(): i for i, n in enumerate(door.odour_names())}
        rows = np.array([names.get(door_name(o), -1) for o in hallem.odours])
        units = {u: i for i, u in enumerate(door.units)}
        for receptor, glomerulus in zip(door.mappings["receptor"], door.mappings["code"]):
            if glomerulus not in column or origin[column[glomerulus]] != "spontaneous" or receptor not in units:
                continue
            u = units[receptor]
            values = np.where(rows >= 0, door.responses[np.maximum(rows, 0), u], np.nan)
            rest = door.sfr[u] if np.isfinite(door.sfr[u]) else np.nan
            hz = fit["slope"] * values + fit["intercept"]
            rest_hz = fit["slope"] * rest + fit["intercept"] if np.isfinite(rest) else spontaneous
            rates[:, column[glomerulus]] = np.maximum(np.where(np.isfinite(hz), hz, rest_hz), 0.0)
            origin[column[glomerulus]] = "door"
    return GlomerulusOdours(hallem.odours, tuple(glomeruli), rates, tuple(origin), fit)


def _door_to_hz(hallem, door) -> dict[str, float]:
    """Least-squares Hz = slope · DoOR + intercept over every (odour, receptor) that both tables hold."""
    names = {n.lower(): i for i, n in enumerate(door.odour_names())}
    units = {u: i for i, u in enumerate(door.units)}
    absolute = hallem.absolute_rates()
    x, y = [], []
    for o, odour in enumerate(hallem.odours):
        row = names.get(door_name(odour))
        if row is None:
            continue
        for r, receptor in enumerate(hallem.receptors):
            if receptor in units and np.isfinite(door.responses[row, units[receptor]]):
                x.append(door.responses[row, units[receptor]])
                y.append(absolute[o, r])
    slope, intercept = np.polyfit(x, y, 1)
    return {"slope": float(slope), "intercept": float(intercept), "r": float(np.corrcoef(x, y)[0, 1]),
            "pairs": len(x)}
