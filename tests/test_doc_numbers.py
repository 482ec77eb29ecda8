"""The measured numbers of the README and the documentation pages agree with the committed JSON
(benchmarks/doc_numbers.py), and no measured-looking number stands in them without a source."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import doc_numbers  # noqa: E402
from doc_sources import QUOTES, STATIC, TABLES  # noqa: E402

TEXTS = doc_numbers.read_documents()
REPRODUCTIONS = "docs/reproductions.md"


def test_the_documents_are_the_readme_and_every_hand_written_page():
    assert "README.md" in TEXTS and REPRODUCTIONS in TEXTS and len(TEXTS) >= 9


def test_every_table_and_quoted_figure_agrees_with_its_json():
    problems = doc_numbers.check(TEXTS)
    assert not problems, "\n".join(map(str, problems)) + "\nrun: python benchmarks/doc_numbers.py"


def test_no_measured_number_without_a_source():
    stale = [fragment for fragment in STATIC if not any(fragment in text for text in TEXTS.values())]
    assert not stale, f"declared static but in no document: {stale}"
    loose = [(where, *found) for where, text in TEXTS.items() for found in doc_numbers.unsourced(text, STATIC)]
    assert not loose, "numbers with no JSON behind them (quote them in doc_sources.QUOTES or declare them STATIC if " \
                      "they are settings):\n" + "\n".join(f"{w}:{n}: {num!r} in {line!r}" for w, n, num, line in loose)


@pytest.mark.parametrize("where", sorted(TEXTS))
def test_rewriting_a_consistent_document_changes_nothing(where):
    assert doc_numbers.rewrite(TEXTS[where]) == TEXTS[where]


def test_a_changed_quoted_figure_is_caught_and_rewritten():
    quote = next(q for q in QUOTES if q.template.startswith("- **BioHash** is within {:.1f} points of the paper at k = 4"))
    rendered = quote.render()
    page = TEXTS[REPRODUCTIONS]
    wrong = page.replace(rendered, rendered.replace("within ", "within 9", 1))
    problems = doc_numbers.check({**TEXTS, REPRODUCTIONS: wrong})
    assert [p.where for p in problems] == [f"quote {quote.template!r}"]
    assert problems[0].json == rendered and "within 9" in problems[0].readme
    assert doc_numbers.rewrite(wrong) == page


def test_a_changed_table_cell_is_caught():
    table = TABLES["table1_mnist"]()
    row = next(line for line in table.splitlines() if line.startswith("| ITQ |"))
    page = TEXTS[REPRODUCTIONS]
    wrong = page.replace(row, row.replace("40.57", "41.57"))
    assert wrong != page
    problems = doc_numbers.check({**TEXTS, REPRODUCTIONS: wrong})
    assert [p.where for p in problems] == [f"{REPRODUCTIONS}: table table1_mnist"]
    assert "41.57" in problems[0].readme and "40.57" in problems[0].json


def test_a_table_shown_twice_or_nowhere_is_caught():
    block = next(m[0] for m in doc_numbers.TABLE_BLOCK.finditer(TEXTS[REPRODUCTIONS]) if m["name"] == "table1_mnist")
    twice = doc_numbers.check({**TEXTS, "README.md": TEXTS["README.md"] + "\n" + block})
    assert [p.where for p in twice] == ["table table1_mnist"]
    nowhere = doc_numbers.check({**TEXTS, REPRODUCTIONS: TEXTS[REPRODUCTIONS].replace(block, "")})
    assert "table table1_mnist" in [p.where for p in nowhere]


@pytest.mark.parametrize("sentence, number", [
    ("It takes about 3.7 s per odour.", "3.7 s"),
    ("Similar pairs lose 12 % of their d′.", "12 %"),
    ("BioHash wins by 4 points.", "4 points"),
])
def test_a_new_unsourced_figure_is_caught(sentence, number):
    text = TEXTS["README.md"] + f"\n{sentence}\n"
    before = {(found[1], found[2]) for found in doc_numbers.unsourced(TEXTS["README.md"], STATIC)}
    after = {(found[1], found[2]) for found in doc_numbers.unsourced(text, STATIC)}
    assert after - before == {(number, sentence)}
