"""Sphinx configuration of the fashion-estimators documentation.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` from the
repository root (``-D plot_gallery=0`` skips running the examples).
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import fashion_estimators  # noqa: E402

project = "fashion-estimators"
author = "the fashion-estimators developers"
release = version = fashion_estimators.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
myst_heading_anchors = 3

autosummary_generate = True
suppress_warnings = ["config.cache"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "pydata_sphinx_theme"
html_title = "fashion-estimators"
html_theme_options = {"show_toc_level": 2, "navigation_with_keys": False}
html_static_path: list[str] = []


def _figures(block, block_vars, gallery_conf):
    """Scrape the matplotlib Figures an example block made.

    The package's plotting functions build figures without pyplot (so that
    nothing stays open), which sphinx-gallery's own scraper cannot see: find
    them among the example's variables instead, each once.
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    paths = []
    for value in list(block_vars["example_globals"].values()):
        if isinstance(value, Figure) and not getattr(value, "_scraped", False):
            value._scraped = True
            path = next(block_vars["image_path_iterator"])
            value.savefig(path, dpi=80)
            paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


sphinx_gallery_conf["image_scrapers"] = (_figures,)
