"""The secrets canary's parts, shared by the tests that look for leaks (test_secrets, test_secrets_more):
distinctive secret values, a config that references each of them, a plugin that puts them into its
exception, and every cell of a database as text."""

import sqlite3

# env name suffix → value; each test sets them as FBA_JP_TEST_<name>
CANARIES = {name: f"CANARY-{name}-7f3q" for name in ("REFRESH", "APP", "CLIENT", "SMTP", "HOOKKEY", "SESSION", "PLUGIN")}
HOOK_TOKEN = "CANARY-HOOKPATH-7f3q"  # a literal webhook URL carries it in its path, as Slack's do


def set_canaries(monkeypatch) -> list[str]:
    """Set every canary in the environment; returns the secrets no output may contain."""
    for name, value in CANARIES.items():
        monkeypatch.setenv(f"FBA_JP_TEST_{name}", value)
    return [*CANARIES.values(), HOOK_TOKEN]


def canary_config(*, hook_url: str = "https://hooks.example.test", smtp_port: int = 9, account: str = "",
                  plugin: bool = True) -> str:
    """A config.toml whose every secret is a canary; ``account`` replaces the default ``[[accounts]]`` table;
    ``plugin``: with the settings of :data:`LEAKY_PLUGIN`."""
    return (account or '''
[[accounts]]
name = "a"
seller = {name = "A"}
refresh_token = "env:FBA_JP_TEST_REFRESH"
lwa_app_id = "env:FBA_JP_TEST_APP"
lwa_client_secret = "env:FBA_JP_TEST_CLIENT"
''') + f'''
[actions.webhook]
url = "{hook_url}/services/T0/B0/{HOOK_TOKEN}"
secret = "env:FBA_JP_TEST_HOOKKEY"
retries = 0
[actions.email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
starttls = false
username = "ops"
password = "env:FBA_JP_TEST_SMTP"
sender = "a@example.test"
to = ["b@example.test"]
[serve]
secret_key = "env:FBA_JP_TEST_SESSION"
''' + ('[plugins.careless]\napi_token = "env:FBA_JP_TEST_PLUGIN"\n' if plugin else "")


# a check that puts its resolved token, a URL carrying it, repr(context.config) (the webhook URL with a token
# in its path) and the environment (every other canary) into its exception
LEAKY_PLUGIN = """
import os

from pydantic import BaseModel, ConfigDict
from fba_jp import hookimpl
from fba_jp.config import resolve_env


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_token: str | None = None


@hookimpl
def register_models(register):
    register(config=Settings)


@hookimpl
def register_checks(register):
    register(careless)


def careless(shipment, context):
    token = resolve_env(context.plugin_config(Settings).api_token)
    environment = {k: v for k, v in os.environ.items() if k.startswith("FBA_JP_TEST_")}
    raise RuntimeError(f"upstream refused {token} (https://api.example.test/v1?key={token}); config {context.config!r}; "
                       f"environment {environment}")
"""


# the same check, which also logs its token on a logger of its own (not one fba-jp filters) before it raises
LOGGING_LEAKY_PLUGIN = "import logging\n" + LEAKY_PLUGIN.replace(
    "    raise RuntimeError(", '    logging.getLogger("careless").warning("upstream refused %s", token)\n    raise RuntimeError(')


def write_leaky_plugin(directory, source: str = LEAKY_PLUGIN):
    """``directory/plugs/careless.py``; returns the directory to give as ``--plugins-dir``."""
    plugs = directory / "plugs"
    plugs.mkdir(exist_ok=True)
    (plugs / "careless.py").write_text(source)
    return plugs


def install_leaky_plugin(directory, source: str = LEAKY_PLUGIN):
    """``careless`` as an installed plugin (a module and its ``fba_jp`` entry point) in ``directory``, for a
    subprocess whose PYTHONPATH holds it (the daemon takes no --plugins-dir)."""
    directory.mkdir(exist_ok=True)
    (directory / "careless.py").write_text(source)
    info = directory / "careless-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: careless\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[fba_jp]\ncareless = careless\n")
    return directory


def database_text(path) -> str:
    """Every cell of every table of the SQLite file at ``path``, compressed inputs and worksheets unpacked."""
    from fba_jp.store import unpack_input, worksheet_bytes

    def cell(value):
        if not isinstance(value, bytes):
            return str(value)
        for unpack in (lambda v: unpack_input(v), lambda v: worksheet_bytes(v).decode("utf-8")):
            try:
                return unpack(value)
            except Exception:  # noqa: BLE001 - not that kind of blob
                pass
        return value.decode("latin-1")

    with sqlite3.connect(path) as db:
        tables = [name for (name,) in db.execute("select name from sqlite_master where type = 'table'")]
        return "\n".join(cell(v) for t in tables for row in db.execute(f'select * from "{t}"') for v in row)


def assert_nothing_leaks(secrets, haystacks: dict[str, str]) -> None:
    """No secret in any of ``haystacks`` (where → text); the message lists every leak."""
    leaks = [f"{secret[:20]}… reached {where}" for secret in secrets for where, text in haystacks.items()
             if secret in text]
    assert not leaks, "; ".join(leaks)
