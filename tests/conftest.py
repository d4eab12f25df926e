import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fba_jp.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Every test runs in its own directory with no stray plugin allow-list or SP-API marketplace override."""
    monkeypatch.delenv("FBA_JP_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("SP_API_DEFAULT_MARKETPLACE", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def run_cli():
    """Invoke ``fba-jp ARGS`` in-process; returns click's Result (exit_code, stdout, stderr)."""

    def run(*args, input=None):
        return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


@pytest.fixture
def write_declaration(tmp_path):
    """Write a declaration dict to a JSON file and return its path."""

    def write(data, name="shipment.json"):
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    return write
