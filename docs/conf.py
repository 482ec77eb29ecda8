"""Sphinx configuration of flymodel's documentation: MyST Markdown pages, numpydoc API reference, strict builds.

Build with ``make docs`` (sphinx-build -W: a warning is an error) into site/.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))  # the checkout's flymodel and analysis packages, installed or not

project = "flymodel"
author = "flymodel developers"
copyright = "2026, flymodel developers"
release = metadata.version("flymodel")

extensions = [
    "myst_parser",  # pages in Markdown (MyST), the README's dialect
    "numpydoc",  # numpydoc-style docstrings, the scientific Python convention
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "flymodel_docs",  # the generated pages: circuit-file reference, API pages
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_ext"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False  # autodoc lists the members; no autosummary stubs
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"flymodel {release}"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
html_static_path = ["_static"]
html_css_files = ["flymodel.css"]
html_sidebars = {"**": []}  # the pages are flat: no section navigation to show beside them
