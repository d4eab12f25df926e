"""The plugin-author docs stay true: every hook documented with its exact signature; examples run."""

import importlib
import inspect
import json
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
    example = ROOT / "plugins" / "fba-jp-lithium"
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


def doc_files(text):
    """The code blocks of a page that start with a file name (``# name.py``, ``# config.toml``): name → text."""
    files = {}
    for body in re.findall(r"```\w+\n(.*?)```", text, flags=re.S):
        first = body.split("\n", 1)[0]
        if match := re.fullmatch(r"# ([\w.-]+\.(?:py|toml))", first):
            files[match.group(1)] = body
    return files


def test_the_examples_in_plugins_md_do_what_they_say(tmp_path, monkeypatch):
    """Every example plugin on the page is loaded and its tests on the page are called; the config.toml
    example is validated against the plugin it configures."""
    from fba_jp.config import load_config
    from fba_jp.plugin_manager import get_plugins

    files = doc_files(DOCS)
    assert {"lithium_check.py", "test_lithium_check.py", "value_ceiling.py", "test_value_ceiling.py",
            "battery_charge.py", "test_battery_charge.py", "config.toml"} <= set(files)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    ran = []
    for name in sorted(n for n in files if n.startswith("test_") and n.endswith(".py")):
        module = importlib.import_module(name[:-3])
        for test_name, test in vars(module).items():
            if test_name.startswith("test_") and callable(test):
                test()
                ran.append(test_name)
    assert len(ran) >= 5
    config = load_config(tmp_path / "config.toml")
    plugins = get_plugins(load_entrypoints=False, extra=(("value_ceiling", importlib.import_module("value_ceiling")),))
    settings = plugins.settings(config)
    assert [s.ceiling_jpy for s in settings.values()] == [150_000]


README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_links_work_on_a_package_index():
    """PyPI shows README.md without the repository: every link and image must be absolute."""
    import tomllib

    from fba_jp.codes import HOME_URL

    relative = [target for target in re.findall(r"\]\(([^)\s]+)\)", README) if not re.match(r"(https?:|mailto:|#)", target)]
    assert not relative, f"make these README links absolute ({HOME_URL}/blob/main/...): {relative}"
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Homepage"] == HOME_URL  # helpUri and README links use the same home


def test_the_readme_acp_example_fixes_the_example_next_to_it(run_cli):
    """The ACP steps in the README, run as written: the registry record clears ACP_MISSING where it is named."""
    import shlex

    section = README[README.index("### An ACP from the registry"):]
    commands = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1).replace("\\\n", " ")
    config = re.search(r"```toml\n(# acme\.toml.*?)```", section, flags=re.S).group(1)
    Path("acme.toml").write_text(config, encoding="utf-8")  # the tests run in their own directory
    codes = []
    for line in commands.splitlines():
        args = shlex.split(line.split("  #")[0])
        assert args[0] == "fba-jp"
        args = [str(ROOT / a) if a.startswith("examples/") else a for a in args[1:]]
        if args[0] == "gate":
            args += ["--output", "json"]
        result = run_cli(*args)
        assert result.exit_code in (0, 1), result.stderr
        if args[0] == "gate":
            codes.append([f["code"] for f in json.loads(result.stdout)["results"][0]["findings"]])
    assert "ACP_MISSING" in codes[0] and "ACP_REGISTERED" not in codes[0]
    assert "ACP_REGISTERED" in codes[1] and "ACP_MISSING" not in codes[1]
