"""The secrets canary on what tests/test_secrets.py does not run: a daemon cycle whose actions fail against
servers that echo the request, the e-mail action's refused logins, documents, db check/backup, config check,
plugins, the dashboard, and secrets too short to redact."""

import base64
import logging

import pytest

from fake_smtp import FakeSMTP, fake_smtp_server
from secrets_canary import CANARIES, assert_nothing_leaks, database_text

SMTP_PASSWORD = CANARIES["SMTP"]


def smtp_forms(user: str, password: str) -> list[str]:
    """How smtplib sends a login: AUTH PLAIN's ``\\0user\\0password`` and AUTH LOGIN's password, in base64."""
    return [base64.b64encode(f"\0{user}\0{password}".encode()).decode(), base64.b64encode(password.encode()).decode()]


@pytest.mark.parametrize("mechanism", [b"PLAIN", b"LOGIN"])
def test_an_smtp_server_that_quotes_the_refused_login_reaches_no_stored_error_or_log(
        tmp_path, monkeypatch, caplog, mechanism):
    """smtplib sends the password in base64 (AUTH PLAIN's ``\\0user\\0password``, AUTH LOGIN's password line),
    which the plain value's redaction does not match; the server's reply itself is kept (it says why)."""
    from fba_jp.actions import act_on
    from fba_jp.config import Config
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.runner import Screener
    from fba_jp.store import Store
    from fba_jp.testing import make_declaration

    monkeypatch.setenv("FBA_JP_TEST_SMTP", SMTP_PASSWORD)
    caplog.set_level(logging.DEBUG)
    with fake_smtp_server() as port, Store(tmp_path / "mail.db") as store:
        FakeSMTP.auth, FakeSMTP.refuse_auth = mechanism, True
        config = Config.model_validate({"actions": {"log": False, "email": {
            "smtp_host": "127.0.0.1", "smtp_port": port, "starttls": False, "username": "ops",
            "password": "env:FBA_JP_TEST_SMTP", "sender": "a@example.test", "to": ["b@example.test"]}}})
        plugins = get_plugins(load_entrypoints=False)
        result = Screener(plugins, config, store).screen(make_declaration(acp=None), "x.json")
        assert act_on(store, plugins, config, [result])["failed"] == 1
        [error] = store.db.execute("select last_error from notifications where action = 'notify_email'").fetchone()
        logins = list(FakeSMTP.logins)
    assert len(logins) == 1 and any(form in logins[0] for form in smtp_forms("ops", SMTP_PASSWORD))  # really sent
    assert error.startswith("SMTPAuthenticationError: (535, b'5.7.8 authentication failed for AUTH " + mechanism.decode())
    assert_nothing_leaks([SMTP_PASSWORD, *smtp_forms("ops", SMTP_PASSWORD)],
                         {"error": error, "log": caplog.text, "database": database_text(tmp_path / "mail.db")})
