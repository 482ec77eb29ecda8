"""The README's Python code blocks run as written, each in a fresh interpreter in an empty folder (so the files they
write land there, not in the checkout). About 2.5 min on 2 cores: they fit on all of MNIST and compile a Brian2
project; kept in the default run so that a README example that no longer works fails CI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.standalone
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs_as_written(index, tmp_path):
    done = subprocess.run([sys.executable, "-c", BLOCKS[index]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, f"README block {index} failed:\n{BLOCKS[index]}\n--- stderr ---\n{done.stderr[-4000:]}"
