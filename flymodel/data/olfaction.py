"""Odour-response data (Hallem & Carlson 2006, DoOR 2.0) as arrays, to drive the olfactory-circuit models.

Both are Drosophila olfactory receptor recordings.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flymodel.data.files import data_path


@dataclass(frozen=True, eq=False)
class OdourResponses:
    """Hallem & Carlson (2006) receptor responses, odours x receptors: change in firing rate from spontaneous.

    The rates are in spikes/s. Made by ``load_hallem_carlson``; the arrays are read-only. The fields are also the
    constructor's arguments.

    Attributes
    ----------
    odours : tuple of str
        The odour names, one per row of ``responses``.
    receptors : tuple of str
        The receptor names (e.g. ``"Or22a"``), one per column of ``responses``.
    responses : ndarray of shape (n_odours, n_receptors), dtype float64
        Change in firing rate from spontaneous, in spikes/s; negative values are inhibitions.
    spontaneous_hz : ndarray of shape (n_receptors,), dtype float64
        The spontaneous firing rate of each receptor's neurons, in spikes/s.
    glomeruli : tuple of str or None
        The glomerulus of each receptor, None where the receptors file gives none.

    Examples
    --------
    >>> from flymodel.data import load_hallem_carlson
    >>> table = load_hallem_carlson()
    >>> row = table.odours.index("ethyl acetate")
    >>> table.receptors[:4], table.glomeruli[:4]
    (('Or2a', 'Or7a', 'Or9a', 'Or10a'), ('DA4m', 'DL5', 'VM3', 'DL1'))
    >>> table.responses[row, :4].tolist(), table.spontaneous_hz[:4].tolist()
    ([-3.0, 6.0, 37.0, 6.0], [8.0, 17.0, 3.0, 14.0])
    >>> table.absolute_rates()[row, :4].tolist()
    [5.0, 23.0, 40.0, 20.0]
    """

    odours: tuple[str, ...]
    receptors: tuple[str, ...]
    responses: np.ndarray
    spontaneous_hz: np.ndarray
    glomeruli: tuple[str | None, ...]

    def absolute_rates(self) -> np.ndarray:
        """Return responses + spontaneous rate in spikes/s, clipped at 0 because a firing rate cannot be negative.

        Responses were measured against each recording's own baseline, while ``spontaneous_hz`` is the table's mean,
        so some inhibitions exceed it: the unclipped sum is negative for 80 of the 2640 entries (down to -24).

        Returns
        -------
        ndarray of shape (n_odours, n_receptors), dtype float64
            ``max(responses + spontaneous_hz, 0)``, a new array.
        """
        return np.maximum(self.responses + self.spontaneous_hz, 0.0)


@dataclass(frozen=True, eq=False)
class DoorDatabase:
    """DoOR 2.0 consensus responses, normalised to [0, 1], with odour metadata and receptor mappings.

    The responses are NaN where not measured. Made by ``load_door``; the arrays are read-only. The fields are also
    the constructor's arguments.

    Attributes
    ----------
    odour_keys : tuple of str
        The InChIKey of each odour, one per row of ``responses``.
    units : tuple of str
        The responding units (Or, Ir and Gr receptors, and sensillum classes such as ``"ac1A"``), one per
        column of ``responses``.
    responses : ndarray of shape (n_odours, n_units), dtype float64
        Consensus responses normalised to [0, 1], NaN where not measured.
    sfr : ndarray of shape (n_units,), dtype float64
        The matrix's SFR row (the normalised spontaneous firing rate of each unit), NaN where missing.
    odour_info : dict of str to tuple of (str or None)
        The columns of door_odor.csv (``"Name"``, ``"InChIKey"``, ``"CAS"``, ...), one entry per odour there, in
        file order (not ``odour_keys`` order); None where the file has NA.
    mappings : dict of str to tuple of (str or None)
        The columns of door_mappings.csv (``"receptor"``, ``"glomerulus"``, ``"sensillum"``, ...), one entry per
        unit there; None where the file has NA.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.data import load_door
    >>> door = load_door()
    >>> door.responses.shape, door.units[:3]
    ((690, 78), ('ac1A', 'ac1B', 'ac2A'))
    >>> door.odour_names()[:3]
    ('water', 'ammonium hydroxide', 'putrescine')
    >>> row = door.odour_names().index("ethyl acetate")
    >>> round(float(door.responses[row, door.units.index("Or22a")]), 3)
    0.266
    >>> round(float(np.isnan(door.responses).mean()), 2)
    0.86
    """

    odour_keys: tuple[str, ...]
    units: tuple[str, ...]
    responses: np.ndarray
    sfr: np.ndarray
    odour_info: dict[str, tuple[str | None, ...]]
    mappings: dict[str, tuple[str | None, ...]]

    def odour_names(self) -> tuple[str, ...]:
        """Return the common name of each odour (from door_odor.csv), or its InChIKey if it has none.

        The names are in ``odour_keys`` order.

        Returns
        -------
        tuple of str
            One name per row of ``responses``.
        """
        names = dict(zip(self.odour_info["InChIKey"], self.odour_info["Name"]))
        return tuple(names.get(key) or key for key in self.odour_keys)


def load_hallem_carlson(root: str | os.PathLike[str] | None = None) -> OdourResponses:
    """Load the 110-odour x 24-receptor Hallem & Carlson (2006) table; root overrides the data search.

    The files are hallem_carlson_2006.csv (the response matrix) and hallem_carlson_2006_receptors.csv (each
    receptor's spontaneous rate and glomerulus).

    Parameters
    ----------
    root : str or os.PathLike or None, default None
        The folder that holds both files; None searches flymodel.data.data_dirs().

    Returns
    -------
    OdourResponses
        The table, with read-only arrays.

    Raises
    ------
    DataFileError
        If a file is not found or fails its checksum.
    ValueError
        If the two files list the receptors in different orders, or a row of the matrix has the wrong number of
        fields.

    Examples
    --------
    >>> from flymodel.data import load_hallem_carlson
    >>> table = load_hallem_carlson()
    >>> table.responses.shape, len(table.odours), len(table.receptors)
    ((110, 24), 110, 24)
    >>> table.odours[:3]
    ('ammonium hydroxide', 'putrescine', 'cadaverine')
    """
    return _parse_hallem_carlson(
        data_path("hallem_carlson_2006.csv", root), data_path("hallem_carlson_2006_receptors.csv", root)
    )


def load_door(root: str | os.PathLike[str] | None = None) -> DoorDatabase:
    """Load the DoOR 2.0 response matrix (690 odours x 78 units), odour metadata and receptor mappings.

    The files are door_response_matrix.csv (';'-separated, its first row the SFR), door_odor.csv and
    door_mappings.csv.

    Parameters
    ----------
    root : str or os.PathLike or None, default None
        The folder that holds the three files; None searches flymodel.data.data_dirs().

    Returns
    -------
    DoorDatabase
        The database, with read-only arrays.

    Raises
    ------
    DataFileError
        If a file is not found or fails its checksum.
    ValueError
        If the matrix's first row is not SFR, a row has the wrong number of fields, or a cell is neither a number
        nor NA.

    Examples
    --------
    >>> from flymodel.data import load_door
    >>> door = load_door()
    >>> door.responses.shape, door.sfr.shape
    ((690, 78), (78,))
    >>> door.odour_keys[0], door.odour_names()[0]
    ('XLYOFNOQVPJJNP-UHFFFAOYSA-N', 'water')
    """
    matrix_path = data_path("door_response_matrix.csv", root)
    units, row_names, rows = _read_r_table(matrix_path)
    if row_names[0] != "SFR":
        raise ValueError(f"{matrix_path}: expected the first row to be SFR; got {row_names[0]!r}")
    values = np.array([[_to_float(v, matrix_path, name, unit) for v, unit in zip(row, units)]
                       for name, row in zip(row_names, rows)])
    responses, sfr = values[1:], values[0]
    responses.flags.writeable = False
    sfr.flags.writeable = False
    return DoorDatabase(
        odour_keys=tuple(row_names[1:]),
        units=tuple(units),
        responses=responses,
        sfr=sfr,
        odour_info=_columns(data_path("door_odor.csv", root)),
        mappings=_columns(data_path("door_mappings.csv", root)),
    )


def _parse_hallem_carlson(matrix_path: Path, receptors_path: Path) -> OdourResponses:
    """Parse the Hallem & Carlson matrix and receptor files, checking that both list the receptors in the same order."""
    with open(matrix_path, newline="", encoding="utf-8") as fh:
        header, *rows = csv.reader(fh)
    with open(receptors_path, newline="", encoding="utf-8") as fh:
        receptor_rows = list(csv.DictReader(fh))
    receptors = tuple(header[1:])
    listed = tuple(r["receptor"] for r in receptor_rows)
    if listed != receptors:
        raise ValueError(
            f"receptor order differs between {matrix_path.name} ({', '.join(receptors)}) and "
            f"{receptors_path.name} ({', '.join(listed)}); the two files must come from the same release"
        )
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"{matrix_path}: row {row[:1]} has {len(row)} fields; the header has {len(header)}")
    responses = np.array([[float(v) for v in row[1:]] for row in rows])
    spontaneous = np.array([float(r["spontaneous_rate_hz"]) for r in receptor_rows])
    responses.flags.writeable = False
    spontaneous.flags.writeable = False
    return OdourResponses(
        odours=tuple(row[0] for row in rows),
        receptors=receptors,
        responses=responses,
        spontaneous_hz=spontaneous,
        glomeruli=tuple(r["glomerulus"] or None for r in receptor_rows),
    )


def _read_r_table(path: Path) -> tuple[list[str], list[str], list[list[str]]]:
    """Read a ';'-separated R table whose header omits the row-name column; return header, row names, rows."""
    with open(path, newline="", encoding="utf-8") as fh:
        header, *rows = csv.reader(fh, delimiter=";")
    for row in rows:
        if len(row) != len(header) + 1:
            raise ValueError(
                f"{path}: row {row[:1]} has {len(row)} fields; expected {len(header) + 1} (a row name plus the "
                f"{len(header)} header columns)"
            )
    return header, [row[0] for row in rows], [row[1:] for row in rows]


def _to_float(value: str, path: Path, row: str, column: str) -> float:
    """Parse one DoOR number ('.' decimals, NA for missing -> NaN), naming the cell if it is malformed."""
    if value == "NA":
        return float("nan")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{path}: cell ({row}, {column}) is {value!r}; expected a number or NA") from None


def _columns(path: Path) -> dict[str, tuple[str | None, ...]]:
    """Read an R table into column name -> values in file order (row names dropped, NA -> None)."""
    header, _, rows = _read_r_table(path)
    return {name: tuple(None if row[i] == "NA" else row[i] for row in rows) for i, name in enumerate(header)}
