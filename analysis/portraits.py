"""The `portraits` experiment: BioHash's learned PN→KC synapses on MNIST shown as images, beside the same units'
initial weights, and the learning curves of the Krotov–Hopfield rule (Ryali et al. 2020, sections 2.1–2.2,
eq. 1–3, Appendix D).

BioHash (k, m = round(k / activity), BIOHASH_PARAMS["mnist"]: raw pixels, p = 2, Δ = 0, ε0 = 2e-2 with linear
decay, minibatches of 100, stop at mean synapse norm < 1.06) is fitted on the MNIST protocol's training set (the
seed's split). The n_shown units shown are those used most: the units active (in the k-WTA code, eq. 6) for the most
training images; every unit's usage count is stored. Beside them are the same units' N(0, 1) initial weights
(Appendix D), redrawn from the seed exactly as flymodel.learning.train_synapses draws them, so the contrast shows
what learning did to each unit; FlyHash's random synapses were not chosen because they are unrelated random
binary sampling masks, not the starting point of these units. NaiveBioHash (m = k units, the paper's control without
expansion) is fitted with the same settings when `naive` is set, for its learning curves. With raw (uncentred,
non-negative) pixels, as BIOHASH_PARAMS["mnist"] prescribes, the learned synapses come out as non-negative digit
prototypes; mean-centred inputs would give signed ones.

The training log is flymodel.learning's: per epoch the energy of eq. 3 summed over the epoch's minibatches, each
under the synapses before that minibatch's update (so it lags the end-of-epoch synapses by up to one epoch), the
mean synapse p-norm after the epoch, the learning rate and the seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.ticker import MaxNLocator

from flymodel.circuit.wiring import gaussian_wiring, seeded_generator
from flymodel.data.protocols import get_protocol
from flymodel.experiment import Experiment
from flymodel.hashing import BioHash, NaiveBioHash
from flymodel.hashing.biohash import hidden_units
from flymodel.plots import save_figure
from flymodel.reproduce import BIOHASH_PARAMS
from flymodel.validation import check_int, check_percent

DATASET = "mnist"
#: Decimals kept for the synapses stored in the results.
DECIMALS = 4
#: Diverging colour map of the portraits: red excitatory, blue inhibitory, white 0.
CMAP = "bwr"


@dataclass(frozen=True)
class PortraitsConfig:
    """Settings of the portraits experiment; the activity is a percentage (m = round(k / activity))."""

    k: int = 16
    activity: float = 5.0
    seed: int = 0
    n_shown: int = 100
    naive: bool = True
    device: str = "cpu"

    def m(self) -> int:
        """The number of hidden units, round(k / activity)."""
        return hidden_units(self.k, None, self.activity / 100)

    def validate(self) -> None:
        """Raise a ValueError naming the first bad field."""
        check_int(self.k, "k", minimum=1)
        check_percent(self.activity, "activity")
        if self.m() < self.k + 1:
            raise ValueError(f"activity={self.activity!r} gives m={self.m()} units for k={self.k}; expected m > k")
        check_int(self.seed, "seed", minimum=0)
        check_int(self.n_shown, "n_shown", minimum=1, maximum=self.m())


def initial_weights(n_units: int, n_features: int, seed: int) -> np.ndarray:
    """The N(0, 1) synapses BioHash starts from (Appendix D), drawn as train_synapses draws them from the seed."""
    return gaussian_wiring(n_units, n_features, seeded_generator(seed)).numpy()


def unit_usage(codes: np.ndarray) -> np.ndarray:
    """How many samples each unit is active for in the boolean codes (n_samples, m)."""
    return codes.sum(axis=0).astype(int)


def most_used(usage: np.ndarray, n: int) -> np.ndarray:
    """The n most used units, most used first (ties in index order)."""
    return np.argsort(-usage, kind="stable")[:n]


def as_images(W: np.ndarray, shape: tuple[int, int]) -> list[Any]:
    """Rows of W as images of the given shape, rounded to DECIMALS, as nested lists for JSON."""
    return np.round(W.reshape(len(W), *shape), DECIMALS).tolist()


def run(config: PortraitsConfig, output_dir: Path, progress: bool) -> dict[str, Any]:
    """Fit BioHash (and NaiveBioHash), rank its units by usage and store the portraits and training logs."""
    protocol = get_protocol(DATASET)
    dataset = protocol.load()
    X = dataset.features(protocol.split(dataset.labels, config.seed).database)
    settings = {"centering": str(BIOHASH_PARAMS[DATASET]["centering"]), "seed": config.seed,
                "device": config.device, "progress": progress}
    hasher = BioHash(k=config.k, activity=config.activity / 100, **settings).fit(X)
    usage = unit_usage(hasher.transform(X))
    shown = most_used(usage, config.n_shown)
    shape = dataset.image_shape[:2]
    results: dict[str, Any] = {
        "dataset": DATASET, "k": config.k, "m": hasher.n_bits_, "activity": 100 * config.k / hasher.n_bits_,
        "n_training": len(X), "image_shape": list(shape), "selection": "most used units (active for most training "
        "images in the k-WTA code), most used first", "tol": hasher.tol, "params": hasher.get_params(),
        "units": shown.tolist(), "usage": usage.tolist(), "unused_units": int((usage == 0).sum()),
        "synapses": as_images(hasher.weights_.cpu().numpy()[shown], shape),
        "initial_synapses": as_images(initial_weights(hasher.n_bits_, X.shape[1], config.seed)[shown], shape),
        "training_log": hasher.training_log_,
    }
    if config.naive:
        results["naive_training_log"] = NaiveBioHash(k=config.k, **settings).fit(X).training_log_
    return results


def _grid(fig: Any, images: list[Any], title: str) -> None:
    """Draw images in a square grid, each on its own colour scale symmetric around 0 (vmin = −vmax = max|W_μ|)."""
    n_cols = math.ceil(math.sqrt(len(images)))
    n_rows = math.ceil(len(images) / n_cols)
    axes = fig.subplots(n_rows, n_cols, squeeze=False,
                        gridspec_kw={"wspace": 0.06, "hspace": 0.06, "left": 0.02, "right": 0.98, "top": 0.86,
                                     "bottom": 0.02})
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image in zip(axes.flat, images):
        image = np.asarray(image)
        vmax = float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap=CMAP, vmin=-vmax, vmax=vmax)
    fig.suptitle(title, fontsize=10)


def plot_synapses(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Figure `portraits_synapses`: the learned synapses of the most used units beside their initial weights, with
    one colour bar for both (each unit has its own symmetric scale)."""
    fig = plt.figure(figsize=(12, 6.9))
    left, right = fig.subfigures(1, 2, wspace=0.03)
    n, m = len(results["synapses"]), results["m"]
    _grid(left, results["synapses"], f"Learned synapses: the {n} most used of m = {m} units\n"
          f"(BioHash k = {results['k']}, activity {results['activity']:.3g} %, MNIST; most used first, row by row)")
    _grid(right, results["initial_synapses"], "The same units before learning\n"
          "(initial weights drawn from N(0, 1), Appendix D)")
    colorbar = fig.colorbar(ScalarMappable(Normalize(-1, 1), cmap=CMAP), cax=fig.add_axes((0.3, -0.03, 0.4, 0.025)),
                            orientation="horizontal", ticks=[-1, 0, 1])
    colorbar.ax.set_xticklabels(["−max|W_μ|", "0", "+max|W_μ|"], fontsize=8)
    colorbar.set_label("synapse W_μi, scaled per unit μ (dimensionless)", fontsize=9)
    return save_figure(fig, output_dir / "portraits_synapses")


def plot_learning(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Figure `portraits_learning`: energy (eq. 3) and mean synapse norm against epoch, the 1.06 criterion dashed."""
    logs = {f"BioHash (m = {results['m']})": (results["training_log"], "-")}
    if "naive_training_log" in results:
        logs[f"NaiveBioHash (m = k = {results['k']})"] = (results["naive_training_log"], "--")
    fig, (energy_ax, norm_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for label, (log, style) in logs.items():
        epochs = [e["epoch"] for e in log]
        energy_ax.plot(epochs, [e["energy"] for e in log], style, marker="o", markersize=3, label=label)
        norm_ax.plot(epochs, [e["mean_norm"] for e in log], style, marker="o", markersize=3, label=label)
    norm_ax.axhline(results["tol"], color="grey", linestyle="--", linewidth=1,
                    label=f"convergence criterion ({results['tol']:g})")
    norm_ax.set_yscale("log")
    energy_ax.set_ylabel("energy E (eq. 3), summed over\nthe epoch's minibatches (a.u.)")
    energy_ax.set_title("Energy of the learning dynamics", fontsize=10)
    norm_ax.set_ylabel("mean synapse norm ‖W_μ‖₂ (log scale)")
    norm_ax.set_title("Synapses converge to the unit sphere", fontsize=10)
    for ax in (energy_ax, norm_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle(f"Krotov–Hopfield learning on MNIST (k = {results['k']}, seed {results['params']['seed']})",
                 fontsize=11)
    fig.tight_layout()
    return save_figure(fig, output_dir / "portraits_learning")


def plot(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Both portraits figures, keyed by format and figure name."""
    paths = {}
    for name, draw in (("synapses", plot_synapses), ("learning", plot_learning)):
        paths.update({f"{name} {ext}": path for ext, path in draw(results, output_dir).items()})
    return paths


EXPERIMENT = Experiment(
    name="portraits",
    description="BioHash's learned MNIST synapses as images beside their initial weights, and the learning curves",
    config_type=PortraitsConfig,
    run=run,
    plot=plot,
    presets={"quick": {"n_shown": 25, "k": 4}},
)
