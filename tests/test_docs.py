"""The plugin-author docs stay true: every hook documented with its exact signature; examples run."""

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

from fba_jp import hookspecs

ROOT = Path(__file__).resolve().parent.parent

DOCS = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def hook_signatures():
    return {
        name: f"{name}({', '.join(inspect.signature(function).parameters)})"
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, "fba_jp_spec")
    }


def test_every_hook_is_documented_with_its_signature():
    documented = set(re.findall(r"^## (\w+\([^)]*\))$", DOCS, flags=re.M))
    signatures = hook_signatures()
    assert signatures, "no hookspecs found"
    missing = [sig for sig in signatures.values() if sig not in documented]
    assert not missing, f"undocumented or drifted hooks in docs/plugins.md: {missing}"
    stale = {d for d in documented if d.split("(")[0] not in signatures}
    assert not stale, f"docs/plugins.md documents hooks that no longer exist: {stale}"


def test_every_hookspec_has_a_docstring():
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(function, "fba_jp_spec"):
            assert function.__doc__ and "Called" in function.__doc__, name


def test_example_plugin_tests_pass():
    """The example plugin's own tests, run as its author would (CI also pip-installs it; see .ci/run)."""
    example = ROOT / "examples" / "fba-jp-lithium"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example / "tests")],
        cwd=example, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(example)},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def config_keys(model, prefix=""):
    """Every key path of the config model, e.g. ``accounts.refresh_token``."""
    from pydantic import BaseModel

    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        yield prefix + name
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        for candidate in inner:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel) and candidate.__module__ == "fba_jp.config":
                yield from config_keys(candidate, prefix + name + ".")


def test_config_example_documents_every_key_and_loads():
    from fba_jp.config import Config, load_config

    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    missing = [key for key in config_keys(Config) if not re.search(rf"\b{re.escape(key.split('.')[-1])}\b", text)]
    assert not missing, f"config.example.toml does not document: {missing}"
    assert load_config(ROOT / "config.example.toml").accounts[0].name == "northwind"


def test_every_builtin_code_is_documented_and_the_codes_page_is_current():
    """``fba_jp/codes.py`` (SARIF rules, docs/codes.md) lists exactly the codes the built-in checks declare."""
    from fba_jp.codes import CODES, CORE_CODES, markdown
    from fba_jp.plugin_manager import get_plugins

    declared = {code for check in get_plugins(load_entrypoints=False).checks for code in check.codes}
    assert not declared - set(CODES), f"add these codes to fba_jp/codes.py: {sorted(declared - set(CODES))}"
    assert set(CODES) == declared | set(CORE_CODES), f"fba_jp/codes.py lists codes no check declares: {sorted(set(CODES) - declared - set(CORE_CODES))}"
    page = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    assert page == markdown(), "docs/codes.md is stale; regenerate: python -m fba_jp.codes > docs/codes.md"
