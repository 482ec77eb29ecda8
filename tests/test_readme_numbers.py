"""The README's measured numbers agree with the committed JSON (benchmarks/readme_numbers.py), and no measured-looking
number stands in it without a source."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import readme_numbers  # noqa: E402
from readme_sources import QUOTES, STATIC, TABLES  # noqa: E402

README = readme_numbers.README.read_text()


def test_every_table_and_quoted_figure_agrees_with_its_json():
    problems = readme_numbers.check(README)
    assert not problems, "\n".join(map(str, problems)) + "\nrun: python benchmarks/readme_numbers.py"


def test_no_measured_number_without_a_source():
    stale = [fragment for fragment in STATIC if fragment not in README]
    assert not stale, f"declared static but no longer in the README: {stale}"
    loose = readme_numbers.unsourced(README, STATIC)
    assert not loose, "numbers with no JSON behind them (quote them in readme_sources.QUOTES or declare them " \
                      "STATIC if they are settings):\n" + "\n".join(f"README.md:{n}: {num!r} in {line!r}" for n, num, line in loose)


def test_rewriting_a_consistent_readme_changes_nothing():
    assert readme_numbers.rewrite(README) == README


def test_a_changed_quoted_figure_is_caught_and_rewritten():
    quote = next(q for q in QUOTES if q.template.startswith("- **BioHash** is within {:.1f} points of the paper at k = 4"))
    rendered = quote.render()
    wrong = README.replace(rendered, rendered.replace("within ", "within 9", 1))
    problems = readme_numbers.check(wrong)
    assert [p.where for p in problems] == [f"quote {quote.template!r}"]
    assert problems[0].json == rendered and "within 9" in problems[0].readme
    assert readme_numbers.rewrite(wrong) == README


def test_a_changed_table_cell_is_caught():
    table = TABLES["table1_mnist"]()
    row = next(line for line in table.splitlines() if line.startswith("| ITQ |"))
    wrong = README.replace(row, row.replace("40.57", "41.57"))
    assert wrong != README
    problems = readme_numbers.check(wrong)
    assert [p.where for p in problems] == ["table table1_mnist"]
    assert "41.57" in problems[0].readme and "40.57" in problems[0].json


@pytest.mark.parametrize("sentence, number", [
    ("It takes about 3.7 s per odour.", "3.7 s"),
    ("Similar pairs lose 12 % of their d′.", "12 %"),
    ("BioHash wins by 4 points.", "4 points"),
])
def test_a_new_unsourced_figure_is_caught(sentence, number):
    text = README.replace("## Licence", f"{sentence}\n\n## Licence")
    before = {(found[1], found[2]) for found in readme_numbers.unsourced(README, STATIC)}
    after = {(found[1], found[2]) for found in readme_numbers.unsourced(text, STATIC)}
    assert after - before == {(number, sentence)}
