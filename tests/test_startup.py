"""What ``fba-jp gate`` and ``fba-jp --help`` load: only what the command needs (the process is the behaviour,
so this runs one fresh interpreter; how long it takes is measured in benchmarks/bench_startup.py)."""

import json
import subprocess
import sys

from fba_jp.store import Store
from fba_jp.testing import declaration_data

PROBE = r"""
import contextlib, io, json, sys
import pluggy

managers = []
original = pluggy.PluginManager.__init__
def counting(self, project_name, *args, **kwargs):
    managers.append(project_name)
    original(self, project_name, *args, **kwargs)
pluggy.PluginManager.__init__ = counting

from fba_jp.cli import main

def run(*args):
    managers.clear()
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        main(list(args))
    return {"modules": sorted(m for m in sys.modules if "." not in m), "managers": managers.count("fba_jp"),
            "stdout": out.getvalue()}

help_modules = run("--help")
gate_modules = run("gate", sys.argv[1], "--db", sys.argv[2], "--output", "json")
report_modules = run("report", "--db", sys.argv[2], "--output", "json")  # a text-only stdout, as here, works too
from fba_jp import regimes
keywords = sum(len(regimes.load_regime(name).keywords) for name in regimes.REGIMES)
print(json.dumps({"help": help_modules, "gate": gate_modules, "report": report_modules,
                  "compiled": regimes._compiled.cache_info().currsize, "keywords": keywords}))
"""

NOT_FOR_GATE = {"sp_api", "apscheduler", "httpx", "smtplib", "jinja2", "respx"}


def test_gate_and_help_load_only_what_they_need(tmp_path):
    declaration = tmp_path / "one.json"
    declaration.write_text(json.dumps(declaration_data()))
    Store(tmp_path / "a.db").close()  # an existing database: nothing to migrate
    out = subprocess.run([sys.executable, "-c", PROBE, str(declaration), str(tmp_path / "a.db")],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    loaded = json.loads(out.stdout)
    for command in ("help", "gate"):
        modules = set(loaded[command]["modules"])
        assert NOT_FOR_GATE.isdisjoint(modules), (command, NOT_FOR_GATE & modules)
        assert loaded[command]["managers"] == 1  # plugins load once, for plugin commands and the gate alike
    # screening and recording it is plain sqlite3: sqlite-utils is for migrations and other commands
    assert "sqlite_utils" not in loaded["gate"]["modules"]
    # the JSON report renders no template, and streams what it reads
    assert "jinja2" not in loaded["report"]["modules"]
    assert json.loads(loaded["report"]["stdout"])["summary"]["shipments"] == 1
    # regime keywords compile on first use: a shipment of ordinary goods needs almost none of them
    assert loaded["compiled"] < loaded["keywords"] / 10
