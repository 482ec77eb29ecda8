"""Published numbers to compare against: Ryali et al. 2020 (ICLR submission), Tables 1, 2, 3 and 6.

The values are mAP in percent, keyed by dataset and by the name flymodel gives the method's class.
"""

from __future__ import annotations

#: Hash lengths of the paper's tables.
PAPER_KS: tuple[int, ...] = (2, 4, 8, 16, 32, 64)

#: mAP (%) by dataset, then method name (as flymodel names the class), one value per k in PAPER_KS (None: not reported).
PAPER_MAP: dict[str, dict[str, tuple[float | None, ...]]] = {
    "mnist": {  # Table 1, mAP@All
        "LSH": (12.45, 13.77, 18.07, 20.30, 26.20, 32.30),
        "PCAHash": (19.59, 23.02, 29.62, 26.88, 24.35, 21.04),
        "FlyHash": (18.94, 20.02, 24.24, 26.29, 32.30, 38.41),
        "SpectralHash": (20.17, 23.40, 29.76, 28.98, 27.37, 24.06),
        "ITQ": (21.94, 28.45, 38.44, 41.23, 43.55, 44.92),
        "NaiveBioHash": (25.85, 29.83, 28.18, 31.69, 36.48, 38.50),
        "BioHash": (44.38, 49.32, 53.42, 54.92, 55.48, None),
        "BioConvHash": (64.49, 70.54, 77.25, 80.34, 81.23, None),
    },
    "cifar10": {  # Table 2, mAP@1000, pixels
        "LSH": (11.73, 12.49, 13.44, 16.12, 18.07, 19.41),
        "PCAHash": (12.73, 14.31, 16.20, 16.81, 17.19, 16.67),
        "FlyHash": (14.62, 16.48, 18.01, 19.32, 21.40, 23.35),
        "SpectralHash": (12.77, 14.29, 16.12, 16.79, 16.88, 16.44),
        "ITQ": (12.64, 14.51, 17.05, 18.67, 20.55, 21.60),
        "NaiveBioHash": (11.79, 12.43, 14.54, 16.62, 17.75, 18.65),
        "BioHash": (20.47, 21.61, 22.61, 23.35, 24.02, None),
        "BioConvHash": (26.94, 27.82, 29.34, 29.74, 30.10, None),
    },
}


#: Table 6: mAP@1000 (%) on CIFAR-10 when the queries have shadows (Appendix B), one value per k in PAPER_KS.
#: GreedyHash (a supervised deep hash on VGG16) is not among flymodel's methods.
PAPER_SHADOW_MAP: dict[str, dict[str, tuple[float | None, ...]]] = {
    "cifar10": {
        "LSH": (10.62, 11.82, 11.71, 11.25, 11.32, 11.90),
        "PCAHash": (10.61, 10.60, 10.88, 11.33, 11.79, 11.83),
        "FlyHash": (11.44, 11.09, 11.86, 11.89, 11.45, 11.44),
        "SpectralHash": (10.64, 10.45, 10.45, 11.70, 11.26, 11.30),
        "ITQ": (10.54, 10.68, 11.65, 11.00, 10.95, 10.94),
        "BioHash": (11.05, 11.50, 11.57, 11.33, 11.59, None),
        "BioConvHash": (26.84, 27.60, 29.31, 29.57, 29.95, None),
    },
}

#: Table 3: BioConvHash's mAP (%) by k_CI (channels kept per location), one value per k in CHANNEL_INHIBITION_KS;
#: MNIST mAP@All with 500 filters per bank, CIFAR-10 mAP@1000 with 400.
CHANNEL_INHIBITION_KS: tuple[int, ...] = (2, 4, 8, 16)
PAPER_CHANNEL_INHIBITION: dict[str, dict[int, tuple[float, ...]]] = {
    "mnist": {1: (56.16, 66.23, 71.20, 73.41), 5: (58.13, 70.88, 75.92, 79.33), 10: (64.49, 70.54, 77.25, 80.34),
              25: (56.52, 64.65, 68.95, 74.52), 100: (23.83, 32.28, 39.14, 46.12)},
    "cifar10": {1: (26.94, 27.82, 29.34, 29.74), 5: (24.92, 25.94, 27.76, 28.90), 10: (23.06, 25.25, 27.18, 27.69),
                25: (20.30, 22.73, 24.73, 26.20), 100: (17.84, 18.82, 20.51, 23.57)},
}


def paper_map(dataset: str, method: str, k: int, shadow: bool = False) -> float | None:
    """Return the paper's mAP (%) for a dataset, method class name and k, or None where it reports none.

    Parameters
    ----------
    dataset : str
        ``"mnist"`` or ``"cifar10"`` (shadowed queries: ``"cifar10"`` only).
    method : str
        The method's class name, e.g. ``"BioHash"``.
    k : int
        Hash length, one of `PAPER_KS`.
    shadow : bool, default False
        Return Table 6's value (queries with shadows) instead of Table 1's or 2's.

    Returns
    -------
    float or None
        The published mAP in percent, or None for a dataset, method or k the table does not report.
    """
    values = (PAPER_SHADOW_MAP if shadow else PAPER_MAP).get(dataset, {}).get(method)
    if values is None or k not in PAPER_KS:
        return None
    return values[PAPER_KS.index(k)]
