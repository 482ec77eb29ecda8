"""Drosophila odour-response data (Hallem & Carlson 2006, DoOR 2.0) as arrays, to drive the olfactory-circuit models."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flymodel.data.files import data_path


@dataclass(frozen=True, eq=False)
class OdourResponses:
    """Hallem & Carlson (2006) receptor responses: change in firing rate (spikes/s) from spontaneous, odours x receptors."""

    odours: tuple[str, ...]
    receptors: tuple[str, ...]
    responses: np.ndarray
    spontaneous_hz: np.ndarray
    glomeruli: tuple[str | None, ...]

    def absolute_rates(self) -> np.ndarray:
        """Return responses + spontaneous rate in spikes/s, clipped at 0 because a firing rate cannot be negative.

        Responses were measured against each recording's own baseline, while spontaneous_hz is the table's mean,
        so some inhibitions exceed it: the unclipped sum is negative for 80 of the 2640 entries (down to -24).
        """
        return np.maximum(self.responses + self.spontaneous_hz, 0.0)


@dataclass(frozen=True, eq=False)
class DoorDatabase:
    """DoOR 2.0 consensus responses (normalised to [0, 1], NaN where not measured) with odour and receptor metadata."""

    odour_keys: tuple[str, ...]
    units: tuple[str, ...]
    responses: np.ndarray
    sfr: np.ndarray
    odour_info: dict[str, tuple[str | None, ...]]
    mappings: dict[str, tuple[str | None, ...]]

    def odour_names(self) -> tuple[str, ...]:
        """Return the common name of each odour in odour_keys (from door_odor.csv), or its InChIKey if it has none."""
        names = dict(zip(self.odour_info["InChIKey"], self.odour_info["Name"]))
        return tuple(names.get(key) or key for key in self.odour_keys)


def load_hallem_carlson(root: str | os.PathLike[str] | None = None) -> OdourResponses:
    """Load the 110-odour x 24-receptor Hallem & Carlson (2006) table; root overrides the data search."""
    return _parse_hallem_carlson(
        data_path("hallem_carlson_2006.csv", root), data_path("hallem_carlson_2006_receptors.csv", root)
    )


def load_door(root: str | os.PathLike[str] | None = None) -> DoorDatabase:
    """Load the DoOR 2.0 response matrix (690 odours x 78 units), odour metadata and receptor mappings."""
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
