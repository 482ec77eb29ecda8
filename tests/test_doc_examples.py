"""Every code example of the README and the documentation pages works as written: each Python block runs in a fresh
interpreter in an empty folder (marked ``docs``: about 5 min on 2 cores, they fit on all of MNIST and compile a Brian2
project; ``make docs`` and CI run them), each shell block's commands are ones that flymodel's parser and the
Makefile accept (in the default run: parsing is instant, running them takes hours), and each TOML block is the
shipped circuit or study file it quotes. Text blocks (command synopses, error messages) are not checked."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from flymodel.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
BLOCK = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```", re.S | re.M)


def blocks(language: str) -> list[tuple[str, str]]:
    """(document:line, code) of every fenced block in that language, README first."""
    found = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            if match["lang"] == language:
                found.append((f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}", match["body"]))
    return found


PYTHON = blocks("python")
SHELL = blocks("bash")
TOML = blocks("toml")
#: Where the shipped circuit and study files live: a TOML block on a page quotes one of them.
SHIPPED_TOML = (ROOT / "circuits", ROOT / "analysis" / "studies")


def shell_commands(code: str) -> list[list[str]]:
    """The commands of a shell block: continuation lines joined, comments dropped, split as a shell splits them."""
    joined = code.replace("\\\n", " ")
    return [words for line in joined.splitlines() if (words := shlex.split(line, comments=True))]


def make_targets() -> set[str]:
    """The Makefile's targets."""
    return set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))


def test_the_readme_has_a_short_example_for_each_audience():
    python = [code for where, code in PYTHON if where.startswith("README.md")]
    shell = [code for where, code in SHELL if where.startswith("README.md")]
    assert len(python) == 2 and all(len(code.splitlines()) <= 15 for code in python)  # neuroscientists, ML engineers
    assert len(shell) == 3 and all(len(shell_commands(code)) <= 5 for code in shell)  # the two commands, then each audience's


@pytest.mark.parametrize("where, code", SHELL, ids=[where for where, _ in SHELL])
def test_shell_block_commands_are_accepted(where, code):
    parser, targets = build_parser(), make_targets()
    for words in shell_commands(code):
        if words[0] == "flymodel":
            try:
                parser.parse_args(words[1:])
            except SystemExit as exc:
                pytest.fail(f"{where}: flymodel's parser refuses {shlex.join(words)!r} (exit {exc.code})")
        elif words[0] == "make":
            assert set(words[1:]) <= targets, f"{where}: {shlex.join(words)!r} names no Makefile target"
        else:
            pytest.fail(f"{where}: {words[0]!r} is neither flymodel nor make; teach this test how to check it")


@pytest.mark.parametrize("where, code", TOML, ids=[where for where, _ in TOML])
def test_toml_block_is_the_shipped_file_it_quotes(where, code):
    quoted = tomllib.loads(code)
    files = [folder / f"{quoted.get('name')}.toml" for folder in SHIPPED_TOML]
    shipped = next((path for path in files if path.is_file()), None)
    assert shipped is not None, f"{where}: a TOML block named {quoted.get('name')!r} quotes no shipped circuit or study"
    assert quoted == tomllib.loads(shipped.read_text(encoding="utf-8")), f"{where} no longer matches {shipped}"


def test_a_stale_command_is_caught():
    with pytest.raises(SystemExit):
        build_parser().parse_args(shell_commands("flymodel study claws --wrokers 2")[0][1:])
    assert "tset" not in make_targets()


@pytest.mark.docs
@pytest.mark.parametrize("where, code", PYTHON, ids=[where for where, _ in PYTHON])
def test_python_block_runs_as_written(where, code, tmp_path):
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"{where} failed:\n{code}\n--- stderr ---\n{done.stderr[-4000:]}"
