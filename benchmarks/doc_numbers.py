"""The measured numbers of the README and the documentation pages, generated from the committed JSON, so that none
of them is copied by hand.

Two kinds of generated text:
- a *table* sits between `<!-- numbers: NAME -->` and `<!-- /numbers -->` in README.md or a page under docs/, and is
  rendered whole from its JSON by the function of that name in `doc_sources.TABLES`;
- a *quote* is a sentence fragment with figures in it (`doc_sources.QUOTES`): a template whose `{}` fields are
  computed from the JSON. One of the documents must contain the rendered fragment.

Run: python benchmarks/doc_numbers.py           rewrite the tables and quoted figures of every document from the JSON
     python benchmarks/doc_numbers.py --check   list every figure of a document that its JSON contradicts (exit 1)
tests/test_doc_numbers.py runs the check, so a page that disagrees with its JSON fails the test suite.
"""

from __future__ import annotations

import argparse
import re
import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from doc_sources import QUOTES, TABLES, Quote  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: The documents whose numbers come from the JSON: the README and the hand-written pages of the documentation.
DOCUMENTS = (README, *sorted((ROOT / "docs").glob("*.md")))
TABLE_BLOCK = re.compile(r"(<!-- numbers: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /numbers -->)", re.S)
#: What a quoted field may look like in the README: a number with signs, separators, units glued on (no spaces).
FIELD = r"[-−+]?[\w.,·⁻⁰¹²³⁴⁵⁶⁷⁸⁹%×]+?"


@dataclass(frozen=True)
class Problem:
    """One disagreement between a document and its JSON."""

    where: str
    readme: str
    json: str

    def __str__(self) -> str:
        return f"{self.where}:\n  page: {self.readme}\n  JSON: {self.json}"


def quote_pattern(quote: Quote) -> re.Pattern[str]:
    """The template as a regular expression: its literal text escaped, each field a number-like token."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(quote.template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(f"({FIELD})")
    return re.compile("".join(parts))


def read_documents() -> dict[str, str]:
    """The text of every document, by its path relative to the checkout."""
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in DOCUMENTS}


def check(texts: dict[str, str]) -> list[Problem]:
    """Every table and quote of the documents compared with what its JSON renders to: each table shown once, in some
    document, and each quote found in one of them."""
    problems = []
    shown: dict[str, list[str]] = {}
    for where, text in texts.items():
        for match in TABLE_BLOCK.finditer(text):
            name = match["name"]
            shown.setdefault(name, []).append(where)
            if name not in TABLES:
                problems.append(Problem(f"{where}: table {name}", "a generated block", f"no table named {name!r} in doc_sources"))
                continue
            expected = TABLES[name]()
            if match["body"] != expected:
                problems.append(Problem(f"{where}: table {name}", *_first_difference(match["body"], expected)))
    for name in sorted(set(TABLES) - set(shown)):
        problems.append(Problem(f"table {name}", "no <!-- numbers: " + name + " --> block in any document", "a table to show"))
    for name, wheres in sorted(shown.items()):
        if len(wheres) > 1:
            problems.append(Problem(f"table {name}", f"shown in {', '.join(wheres)}", "one document"))
    for quote in QUOTES:
        rendered = quote.render()
        if any(rendered in text for text in texts.values()):
            continue
        found = next((f"{where}: {m[0]}" for where, text in texts.items() if (m := quote_pattern(quote).search(text))),
                     "(no such sentence)")
        problems.append(Problem(f"quote {quote.template!r}", found, rendered))
    return problems


def _first_difference(have: str, want: str) -> tuple[str, str]:
    """The first line where two texts differ."""
    for a, b in zip(have.splitlines() + [""], want.splitlines() + [""]):
        if a != b:
            return a, b
    return "(same lines)", "(same lines)"


def rewrite(text: str) -> str:
    """A document with every table rendered again and every quote's figures replaced by the JSON's."""
    def table(match: re.Match[str]) -> str:
        name = match["name"]
        body = TABLES[name]() if name in TABLES else match["body"]
        return f"{match.group(1)}{body}{match.group(4)}"

    text = TABLE_BLOCK.sub(table, text)
    for quote in QUOTES:
        rendered = quote.render()
        if rendered not in text:
            pattern = quote_pattern(quote)
            if len(pattern.findall(text)) == 1:
                text = pattern.sub(lambda _: rendered, text)
    return text


#: A number that reads as a measurement: any decimal, or a count with a unit of time, share, size or difference.
MEASURED = re.compile(r"(?<![\w.\-])[-−+]?\d[\d,]*(?:\.\d+(?:\s?(?:%|s\b|ms\b|min\b|h\b|GB\b))?|\s?(?:%|s\b|ms\b|min\b|h\b"
                      r"|hours?\b|minutes?\b|seconds?\b|GB\b|points?\b|times\b|×))")


def unsourced(text: str, static: Iterable[str]) -> list[tuple[int, str, str]]:
    """Measured-looking numbers of a document that no table or quote produces and no `static` fragment (a setting, a
    paper's value, a literature range) declares: (line number, number, line). Code blocks are read only after '#'."""
    masked = list(text)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if masked[i] != "\n":
                masked[i] = " "

    for match in TABLE_BLOCK.finditer(text):
        blank(match.start(), match.end())
    for fragment in [q.render() for q in QUOTES] + list(static):
        start = text.find(fragment)
        while start >= 0:
            blank(start, start + len(fragment))
            start = text.find(fragment, start + 1)
    for match in re.finditer(r"```.*?```", text, re.S):  # in code, only comments can hold figures
        for line in re.finditer(r"[^\n]*", match[0]):
            code = line[0].split("#", 1)[0] if not line[0].startswith("#") or "```" in line[0] else ""
            blank(match.start() + line.start(), match.start() + line.start() + len(code))
    for match in re.finditer(r"`[^`\n]*`|\]\([^)]*\)|<!--.*?-->", text):  # inline code, link targets, comments
        blank(match.start(), match.end())
    lines = text.split("\n")
    found = []
    for number, line in enumerate("".join(masked).split("\n"), 1):
        found += [(number, m[0], lines[number - 1].strip()) for m in MEASURED.finditer(line)]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only list disagreements; exit 1 if there are any")
    args = parser.parse_args(argv)
    texts = read_documents()
    if not args.check:
        for where, text in texts.items():
            new = rewrite(text)
            if new != text:
                (ROOT / where).write_text(new, encoding="utf-8")
                print(f"rewrote {where}")
                texts[where] = new
    problems = check(texts)
    for problem in problems:
        print(problem)
    print(f"{len(TABLES)} tables, {len(QUOTES)} quotes: {len(problems)} disagree with their JSON")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
