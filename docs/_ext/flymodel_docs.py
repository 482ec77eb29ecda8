"""Pages of flymodel's documentation that are generated, not written: the circuit-file reference (read from the
schema in flymodel/circuit/spec.py), the table of evaluation protocols (flymodel.data.PROTOCOLS) and one API page per
public module (autodoc of its ``__all__``).

Sphinx runs `generate` before it reads the sources (the ``builder-inited`` event), so a changed default, range or
comment in the schema, or a new public name, reaches the built site without anyone editing a page.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import re
import tokenize
from pathlib import Path
from types import ModuleType
from typing import Any

DOCS = Path(__file__).resolve().parents[1]
GENERATED = DOCS / "generated"

#: The public modules of the API reference, in the order the reference lists them; each page documents exactly the
#: module's ``__all__`` (tests/test_docs.py requires an Examples section of every class and function there).
API_MODULES = (
    ("flymodel.hashing", "Hashers"),
    ("flymodel.codes", "Stored codes"),
    ("flymodel.index", "Hamming search"),
    ("flymodel.metrics", "Retrieval metrics"),
    ("flymodel.encoding", "Out-of-core encoding and search"),
    ("flymodel.learning", "The Krotov–Hopfield learning core"),
    ("flymodel.circuit", "Circuit specs, the rate engine and k-WTA"),
    ("flymodel.circuit.wiring", "PN→KC wirings"),
    ("flymodel.circuit.measures", "Code measures"),
    ("flymodel.spiking", "The spiking engine (Brian2)"),
    ("flymodel.study", "Hypothesis studies"),
    ("flymodel.data", "Data sets and protocols"),
    ("flymodel.stats", "Statistics over seeds"),
    ("flymodel.experiment", "Experiments (the analyses' runner)"),
)


# --- The circuit-file reference --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Rule:
    """One range check of ``_validate``: the allowed values of a key, and the condition under which it applies."""

    expected: str
    when: str | None


def field_comments(klass: type) -> dict[str, str]:
    """The trailing ``#`` comment of each field line of a dataclass's source: the schema's description of the key."""
    comments: dict[str, str] = {}
    tokens = tokenize.generate_tokens(io.StringIO(inspect.getsource(klass)).readline)
    line_names: dict[int, str] = {}
    for token in tokens:
        if token.type == tokenize.NAME and token.start[1] == 4 and token.start[0] not in line_names:
            line_names[token.start[0]] = token.string
        elif token.type == tokenize.COMMENT and token.start[0] in line_names:
            comments[line_names[token.start[0]]] = token.string.lstrip("#").strip()
    return comments


def _aliases(function: ast.FunctionDef) -> dict[str, str]:
    """Local names of ``_validate`` and what they stand for: section variables (``kc`` → ``kc``, ``pl`` →
    ``plasticity``) and derived flags (``from_connectome`` → its expression)."""
    aliases: dict[str, str] = {}
    for statement in function.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target, value = statement.targets[0], statement.value
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for name, attribute in zip(target.elts, value.elts):
                if isinstance(name, ast.Name) and isinstance(attribute, ast.Attribute):
                    aliases[name.id] = attribute.attr
        elif isinstance(target, ast.Name) and target.id != "where":
            aliases[target.id] = f"({ast.unparse(value)})"
    return aliases


def _symbolic(expression: ast.expr, aliases: dict[str, str]) -> str:
    """An expression of the spec as a reader of a circuit file says it: ``i.n`` → ``inputs.n``."""
    text = ast.unparse(expression)
    for _ in range(2):  # a derived flag may itself use section variables
        for name, meaning in aliases.items():
            text = _replace_name(text, name, meaning)
    return text


def _replace_name(text: str, name: str, meaning: str) -> str:
    """Replace a whole identifier (``i`` in ``i.n``, not in ``min`` or in a string) in unparsed source."""
    return re.sub(rf"(?<![\w.'\"]){re.escape(name)}(?![\w'\"])", lambda _: meaning, text)


def _expected_text(expression: ast.expr, namespace: dict[str, Any], aliases: dict[str, str]) -> str:
    """The ``expected`` argument of a need() call as text: constants and module-level names evaluated, references to
    the spec's own values written out symbolically (``[1, inputs.n]``)."""
    if isinstance(expression, ast.Constant):
        return str(expression.value)
    if not isinstance(expression, ast.JoinedStr):
        return _symbolic(expression, aliases)
    parts = []
    for value in expression.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
            continue
        try:
            parts.append(str(eval(compile(ast.Expression(value.value), "<schema>", "eval"), dict(namespace))))
        except NameError:
            parts.append(_symbolic(value.value, aliases))
    return "".join(parts)


def validation_rules(module: ModuleType) -> dict[tuple[str, str], list[Rule]]:
    """Every ``need(ok, "[section] key", value, expected)`` call of the module's ``_validate``, by (section, key),
    with the ``if`` conditions that enclose it."""
    tree = ast.parse(inspect.getsource(module))
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "_validate")
    aliases = _aliases(function)
    rules: dict[tuple[str, str], list[Rule]] = {}

    def visit(statements: list[ast.stmt], conditions: tuple[str, ...]) -> None:
        for statement in statements:
            if isinstance(statement, ast.If):
                visit(statement.body, (*conditions, _symbolic(statement.test, aliases)))
                visit(statement.orelse, (*conditions, f"not ({_symbolic(statement.test, aliases)})"))
            elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) \
                    and getattr(statement.value.func, "id", None) == "need":
                _, key, _, expected = statement.value.args
                section, name = key.value.strip("[").split("] ")
                rules.setdefault((section, name), []).append(
                    Rule(_expected_text(expected, vars(module), aliases), " and ".join(conditions) or None))

    visit(function.body, ())
    return rules


def toml_value(value: Any) -> str:
    """A default as it is written in a TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def circuit_reference(module: ModuleType) -> str:
    """The circuit-file reference page (MyST Markdown): per section, every key with its type, default, allowed values
    (with the condition under which each check applies) and the schema's description."""
    rules = validation_rules(module)
    keys = {(section, f.name) for section, klass in module.SECTIONS.items() for f in dataclasses.fields(klass)}
    stray = sorted(set(rules) - keys)
    if stray:
        raise ValueError(f"_validate checks keys that are not in the schema: {stray}")
    lines = ["<!-- Generated by docs/_ext/flymodel_docs.py from flymodel/circuit/spec.py; do not edit. -->", "",
             "# Circuit-file reference", "",
             "Every key of a circuit file, read from the schema (`flymodel/circuit/spec.py`): its type, its default, "
             "the values `load_circuit` accepts (checked when the file is loaded; a check that depends on another key "
             "says when it applies) and the schema's description of it. A key left out of a file takes its default.",
             ""]
    for section, klass in module.SECTIONS.items():
        comments = field_comments(klass)
        summary = inspect.getdoc(klass).split("\n\n")[0].replace("\n", " ")
        lines += [f"## `[{section}]`", "", summary, "", "| key | type | default | allowed values | description |",
                  "|---|---|---|---|---|"]
        for f in dataclasses.fields(klass):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            allowed = "; ".join(rule.expected + (f" (when `{rule.when}`)" if rule.when else "")
                                for rule in rules.get((section, f.name), [])) or "any " + f.type
            lines.append(f"| `{f.name}` | `{f.type}` | `{toml_value(default)}` | {_cell(allowed)} | "
                         f"{_cell(comments.get(f.name, ''))} |")
        lines.append("")
    return "\n".join(lines)


# --- The evaluation protocols ---------------------------------------------------------------------------------------

def protocols_table(protocols: dict[str, Any]) -> str:
    """The protocols of flymodel.data.PROTOCOLS as a Markdown table, for the hashing page to include."""
    lines = ["| protocol | data set | queries | database and training set | metric |", "|---|---|---|---|---|"]
    for name, protocol in protocols.items():
        lines.append(f"| `{name}` | `{protocol.dataset}` | {protocol.queries_per_class} per class, drawn by the seed | "
                     f"every other image | {protocol.metric} |")
    return "\n".join(lines) + "\n"


# --- The API reference -----------------------------------------------------------------------------------------------

API_INTRO = """\
Generated from the docstrings (numpydoc style): every public class and function with its parameters, returns, the
errors it raises and an example that the test suite runs. The top-level package ``flymodel`` re-exports the names
most scripts need: the hashers, ``load_hasher``, ``make_hasher``, ``hamming_distances``, ``search``, ``kwta``,
``mean_average_precision`` and ``retrieval_scores``.
"""


def api_index() -> str:
    """The API reference's contents page (reStructuredText), listing the module pages in API_MODULES order."""
    entries = "".join(f"   {module}\n" for module, _ in API_MODULES)
    return f"API reference\n=============\n\n{API_INTRO}\n.. toctree::\n   :maxdepth: 1\n\n{entries}"


def api_page(module: str, title: str) -> str:
    """One API page (reStructuredText): the module's docstring and every name of its ``__all__``."""
    heading = f"``{module}``: {title}"
    return f"{heading}\n{'=' * len(heading)}\n\n.. automodule:: {module}\n   :members:\n"


def _write(path: Path, text: str) -> None:
    """Write a generated page only when it changed, so that Sphinx rebuilds only what did."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def generate(app: Any = None) -> None:
    """Write every generated page under docs/generated/ (the ``builder-inited`` handler)."""
    from flymodel.circuit import spec
    from flymodel.data import PROTOCOLS

    _write(GENERATED / "circuit_reference.md", circuit_reference(spec))
    _write(GENERATED / "protocols.md", protocols_table(PROTOCOLS))
    _write(GENERATED / "api" / "index.rst", api_index())
    for module, title in API_MODULES:
        _write(GENERATED / "api" / f"{module}.rst", api_page(module, title))


def setup(app: Any) -> dict[str, Any]:
    """Register the generator with Sphinx."""
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
