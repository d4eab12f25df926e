"""Every output format against golden files, for the bundled example declarations.

If a change to the output is intended, regenerate with: FBA_JP_UPDATE_GOLDEN=1 pytest tests/test_golden.py
and review the diff of tests/golden/ like any other change.
"""

import os
from pathlib import Path

import pytest

from fba_jp.inputs import read_declaration
from fba_jp.models import InputProblem, ResultDocument, Summary
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
    # and a file that could not be screened, which every format must show too
    problems = [InputProblem(source="shipments/broken.json", field="items[0].quantity", message="must be a positive integer (got -3)")]
    return ResultDocument(results=results, errors=problems, summary=Summary.of(results, problems))


OPTIONS = {"sarif": {"exit_code": 3}, "table-v": {"verbose": True}}


@pytest.mark.parametrize("fmt", sorted([*BUILTIN_FORMATS, "table-v"]))
def test_output_matches_golden(document, fmt):
    render = BUILTIN_FORMATS[fmt.split("-")[0]]
    text = render(document, **OPTIONS.get(fmt, {}))
    golden = GOLDEN / f"examples.{fmt}"
    if os.environ.get("FBA_JP_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"--output {fmt} changed; if intended, regenerate: FBA_JP_UPDATE_GOLDEN=1 pytest tests/test_golden.py"
    )


def test_golden_covers_all_verdicts(document):
    assert {r.verdict for r in document.results} == {"blocked", "annotated", "cleared"}
