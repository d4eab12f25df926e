"""Every output format against golden files, for the bundled example declarations.

If a change to the output is intended, regenerate with: FBA_JP_UPDATE_GOLDEN=1 pytest tests/test_golden.py
and review the diff of tests/golden/ like any other change.
"""

import os
from pathlib import Path

import pytest

from fba_jp.inputs import read_declaration
from fba_jp.models import ResultDocument, Summary
from fba_jp.output import BUILTIN_FORMATS
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = ["acme-acp-missing.json", "northwind-amazon-ior.json", "sakura-cleared.json", "kyoto-cosmetics-blocked.json",
            "tokyo-tea-annotated.json"]


@pytest.fixture(scope="module")
def document():
    screener = Screener(get_plugins(load_entrypoints=False))
    results = []
    for name in EXAMPLES:
        declaration, _ = read_declaration(str(ROOT / "examples" / name))
        results.append(screener.screen(declaration, f"examples/{name}"))
    return ResultDocument(results=results, summary=Summary.of(results))


@pytest.mark.parametrize("fmt", sorted(BUILTIN_FORMATS))
def test_output_matches_golden(document, fmt):
    render = BUILTIN_FORMATS[fmt]
    text = render(document, exit_code=1) if fmt == "sarif" else render(document)
    golden = GOLDEN / f"examples.{fmt}"
    if os.environ.get("FBA_JP_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"--output {fmt} changed; if intended, regenerate: FBA_JP_UPDATE_GOLDEN=1 pytest tests/test_golden.py"
    )


def test_golden_covers_all_verdicts(document):
    assert {r.verdict for r in document.results} == {"blocked", "annotated", "cleared"}
