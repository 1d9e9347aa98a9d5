"""Static checks of the page sources: the CSP holds (no inline script, handler or style), every
catalog key a template names exists in both languages, and the hand-written assets stay small."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coordinator.web.catalog import CATALOG
from coordinator.web.context import HERE
from coordinator.web.static_files import STATIC_DIR

TEMPLATES = sorted((HERE / "templates").glob("*.html"))
# A literal key: t('event.title') or t("event.title", n=…); keys built with ~ are dynamic.
KEY_USE = re.compile(r"""\bt\(\s*['"]([a-z_.]+)['"]\s*[,)]""")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
# The assets every page loads; the dashboard alone adds the vendored chart library.
PAGE_WEIGHT_LIMIT = 16 * 1024


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_need_no_inline_script_or_style(template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(source)
    assert not HANDLER_ATTRIBUTE.search(source)
    assert not STYLE_ATTRIBUTE.search(source)


def test_every_literal_catalog_key_exists_in_both_languages() -> None:
    used = {key for template in TEMPLATES for key in KEY_USE.findall(template.read_text(encoding="utf-8"))}
    assert used, "the pattern found no keys at all"
    assert sorted(used - CATALOG.keys()) == []
    assert [key for key, (zh, en) in CATALOG.items() if not zh or not en] == []


def test_own_assets_stay_small() -> None:
    own = [STATIC_DIR / "app.css", STATIC_DIR / "app.js", STATIC_DIR / "dashboard.js"]
    assert sum(path.stat().st_size for path in own) < PAGE_WEIGHT_LIMIT


def test_the_vendored_chart_library_keeps_its_licence() -> None:
    vendor = STATIC_DIR / "vendor" / "uplot"
    assert "Permission is hereby granted, free of charge" in (vendor / "LICENSE").read_text(encoding="utf-8")
    assert (vendor / "uPlot.iife.min.js").stat().st_size > 0


def test_the_vendored_qr_decoder_keeps_its_licence() -> None:
    vendor = STATIC_DIR / "vendor" / "jsqr"
    assert "Apache License" in (vendor / "LICENSE").read_text(encoding="utf-8")
    assert (vendor / "jsQR.js").stat().st_size > 0
