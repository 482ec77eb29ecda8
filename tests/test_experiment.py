"""Tests for the experiment shape (flymodel.experiment) and the analyze/figure commands, on a toy experiment."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import analysis
from flymodel.cli import main
from flymodel.experiment import Experiment, make_config, redraw, run_experiment
from flymodel.plots import save_figure


@dataclass(frozen=True)
class ToyConfig:
    """Settings of the toy experiment."""

    seeds: tuple[int, ...] = (0, 1)
    scale: float = 1.0
    label: str = "toy"
    noisy: bool = False

    def validate(self) -> None:
        if self.scale <= 0:
            raise ValueError(f"scale={self.scale} must be > 0")


def _run(config: ToyConfig, output_dir: Path, progress: bool) -> dict:
    return {"values": [config.scale * s for s in config.seeds]}


def _plot(results: dict, output_dir: Path) -> dict[str, Path]:
    fig, ax = plt.subplots()
    ax.plot(results["values"])
    return save_figure(fig, output_dir / "toy")


TOY = Experiment("toy", "a toy", ToyConfig, _run, _plot, presets={"big": {"scale": 10}})


def test_make_config_layers_defaults_preset_file_and_overrides(tmp_path):
    file = tmp_path / "settings.toml"
    file.write_text('label = "from file"\nseeds = [3, 4, 5]\n')
    config = make_config(TOY, preset="big", file=file, overrides={"noisy": True})
    assert config == ToyConfig(seeds=(3, 4, 5), scale=10.0, label="from file", noisy=True)
    assert isinstance(config.scale, float) and isinstance(config.seeds, tuple)
    assert make_config(TOY, overrides={"scale": 2}).scale == 2.0
    json_file = tmp_path / "settings.json"
    json_file.write_text('{"scale": 3.5}')
    assert make_config(TOY, file=json_file).scale == 3.5


@pytest.mark.parametrize("kwargs, error, message", [
    ({"overrides": {"sclae": 1}}, ValueError, "no setting 'sclae'.*scale"),
    ({"overrides": {"scale": -1}}, ValueError, "scale=-1.0 must be > 0"),
    ({"overrides": {"seeds": 3}}, TypeError, "seeds=3 must be a list"),
    ({"overrides": {"noisy": 1}}, TypeError, "noisy=1 must be true or false"),
    ({"overrides": {"label": 5}}, TypeError, "label=5 must be of type str"),
    ({"preset": "huge"}, ValueError, "preset='huge'.*big"),
    ({"file": "missing.toml"}, FileNotFoundError, "missing.toml"),
])
def test_make_config_names_the_bad_setting(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_config(TOY, **kwargs)


def test_run_writes_results_with_provenance_and_redraw_needs_no_rerun(tmp_path):
    results, paths = run_experiment(TOY, make_config(TOY), tmp_path, progress=False)
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored["experiment"] == "toy" and stored["values"] == [0.0, 1.0]
    assert stored["config"] == {"seeds": [0, 1], "scale": 1.0, "label": "toy", "noisy": False}
    assert {"date", "versions", "cpu_count"} <= set(stored["environment"]) and stored["total_seconds"] >= 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "toy.pdf", "toy.png"]
    (tmp_path / "toy.png").unlink()
    again = redraw(TOY, tmp_path, tmp_path / "redrawn")
    assert again["png"].read_bytes().startswith(b"\x89PNG") and (tmp_path / "redrawn" / "toy.pdf").is_file()


def test_redraw_refuses_missing_or_foreign_results(tmp_path):
    with pytest.raises(FileNotFoundError, match="flymodel analyze toy"):
        redraw(TOY, tmp_path)
    (tmp_path / "results.json").write_text('{"experiment": "other"}')
    with pytest.raises(ValueError, match="'other', not 'toy'"):
        redraw(TOY, tmp_path)


def test_registry_knows_every_module_in_analysis():
    modules = {p.stem for p in Path(analysis.__file__).parent.glob("*.py") if p.stem != "__init__"}
    assert modules == set(analysis.EXPERIMENTS)
    with pytest.raises(ValueError, match="experiment='nope' is unknown; expected one of: hashing_quality"):
        analysis.get_experiment("nope")


def test_analyze_and_figure_commands_run_a_registered_experiment(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "get_experiment", lambda name: TOY)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["analyze", "toy", "--preset", "big", "--set", "seeds=[1,2]", "--output", str(tmp_path),
                     "--quiet"]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["values"] == [10.0, 20.0]
    assert "json: " in out.getvalue()
    (tmp_path / "toy.pdf").unlink()
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["figure", "toy", "--results", str(tmp_path)]) == 0
    assert (tmp_path / "toy.pdf").is_file()


def test_analyze_reports_a_bad_setting_as_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(analysis, "get_experiment", lambda name: TOY)
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "toy", "--set", "scale", "--output", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--set 'scale' is not of the form KEY=VALUE" in capsys.readouterr().err
