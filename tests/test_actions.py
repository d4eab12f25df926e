"""Actions on verdict change: once per state, signed webhooks, e-mail, failures retried, nothing repeated."""

import hashlib
import hmac
import json

import httpx
import pytest
import respx

import fba_jp.plugins.notify_webhook as webhook_plugin
from fba_jp.actions import action_names, deliver_pending, queue_changes
from fba_jp.config import Config
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.testing import make_declaration
from fake_smtp import FakeSMTP, fake_smtp_server

URL = "https://hooks.example.test/fba-jp"


@pytest.fixture
def setup(fba_jp_store, monkeypatch):
    monkeypatch.setattr(webhook_plugin, "BACKOFF_S", 0)
    monkeypatch.setenv("HOOK_SECRET", "s3cr3t-hmac-key")

    def make(**actions):
        config = Config.model_validate({"actions": {"log": False, **actions}})
        plugins = get_plugins(load_entrypoints=False)
        screener = Screener(plugins, config, fba_jp_store)

        def run(declaration):
            result = screener.screen(declaration, "test")
            changes = queue_changes(fba_jp_store, [result], action_names(plugins))
            return changes, deliver_pending(fba_jp_store, plugins, config)

        return run

    return make


def test_webhook_fires_once_per_state_with_hmac_signature(setup):
    run = setup(webhook={"url": URL, "secret": "env:HOOK_SECRET"})
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(204))
        changes, counts = run(make_declaration(acp=None))
        assert len(changes) == 1 and counts["sent"] == 1
        request = route.calls.last.request
        body = request.content
        expected = "sha256=" + hmac.new(b"s3cr3t-hmac-key", body, hashlib.sha256).hexdigest()
        assert request.headers["X-FBA-JP-Signature"] == expected
        payload = json.loads(body)
        assert payload["verdict"] == "blocked" and payload["blocking_codes"] == ["ACP_MISSING"]
        assert payload["previous_verdict"] is None and payload["result"]["shipment_id"] == "FBA15TEST001"
        assert "s3cr3t" not in body.decode()
        # same state again: nothing queued, nothing sent
        changes, counts = run(make_declaration(acp=None))
        assert changes == [] and route.call_count == 1
        # the ACP gets registered: a new state → exactly one more call, with the previous verdict
        changes, _ = run(make_declaration())
        assert len(changes) == 1 and route.call_count == 2
        assert json.loads(route.calls.last.request.content)["previous_verdict"] == "blocked"


def test_webhook_retries_then_fails_and_is_retried_next_run(setup, fba_jp_store):
    run = setup(webhook={"url": URL, "retries": 2})
    with respx.mock() as mock:
        route = mock.post(URL).mock(side_effect=[httpx.Response(503), httpx.ConnectError("refused"),
                                                 httpx.Response(500), httpx.Response(200)])
        _, counts = run(make_declaration(acp=None))
        assert counts["sent"] == 0 and counts["failed"] == 1 and route.call_count == 3
        row = fba_jp_store.db.execute("select status, attempts, last_error from notifications where action = 'notify_webhook'").fetchone()
        assert row[0] == "failed" and row[1] == 1 and "HTTP 500" in row[2]
        # next run: the failed delivery is retried and succeeds; no new event for the unchanged state
        _, counts = run(make_declaration(acp=None))
        assert counts["sent"] == 1 and route.call_count == 4


def test_client_error_is_not_retried_immediately(setup):
    run = setup(webhook={"url": URL, "retries": 3})
    with respx.mock() as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(401))
        _, counts = run(make_declaration(acp=None))
        assert counts["failed"] == 1 and route.call_count == 1


def test_unconfigured_actions_are_skipped_not_sent(setup, fba_jp_store):
    run = setup()
    _, counts = run(make_declaration(acp=None))
    assert counts["sent"] == 0 and counts["skipped"] >= 2  # webhook, email (and log switched off)
    statuses = {r["action"]: r["status"] for r in fba_jp_store.db["notifications"].rows}
    assert statuses["notify_webhook"] == "skipped" and statuses["notify_email"] == "skipped"


@pytest.fixture
def smtp():
    """An ``[actions.email]`` table for a fake SMTP server on loopback (plain, no STARTTLS)."""
    with fake_smtp_server() as port:
        yield {"smtp_host": "127.0.0.1", "smtp_port": port, "starttls": False,
               "sender": "fba-jp@example.test", "to": ["ops@example.test"]}


def test_email_action_sends_one_message(setup, smtp):
    run = setup(email=smtp)
    _, counts = run(make_declaration(importer_of_record={"name": "Amazon Japan G.K."}))
    assert counts["sent"] == 1 and len(FakeSMTP.received) == 1
    message = FakeSMTP.received[0]
    assert "Subject: [fba-jp] FBA15TEST001 BLOCKED: IOR_AMAZON" in message and "Fix:" in message


def test_email_login_without_a_password_names_the_missing_key(setup, smtp, fba_jp_store):
    run = setup(email={**smtp, "username": "ops"})
    _, counts = run(make_declaration(acp=None))
    assert counts["failed"] == 1 and FakeSMTP.received == []
    [error] = [r["last_error"] for r in fba_jp_store.db["notifications"].rows if r["action"] == "notify_email"]
    assert "[actions.email] password" in error and "None" not in error


def test_an_smtp_login_without_starttls_to_another_host_is_refused():
    """The password would cross the network in clear; a relay on this machine may take it."""
    email = {"smtp_host": "smtp.example.com", "starttls": False, "username": "ops", "password": "env:SMTP_PASSWORD",
             "sender": "fba-jp@example.test", "to": ["ops@example.test"]}
    with pytest.raises(ValueError, match="would send the SMTP password unencrypted to smtp.example.com"):
        Config.model_validate({"actions": {"email": email}})
    Config.model_validate({"actions": {"email": {**email, "starttls": True}}})
    Config.model_validate({"actions": {"email": {**email, "smtp_host": "127.0.0.1"}}})


@pytest.fixture
def tls_smtp(smtp, tmp_path, monkeypatch):
    """The fake server with a certificate for 127.0.0.1 from a throwaway CA; ``trust()`` makes this process
    trust that CA (SSL_CERT_FILE, which the system's default verify paths read)."""
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    FakeSMTP.tls = context
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-pa55word")

    def trust():
        ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))

    return {**smtp, "starttls": True, "username": "ops", "password": "env:SMTP_PASSWORD"}, trust


def test_starttls_checks_the_servers_certificate_before_the_password_is_sent(setup, tls_smtp, fba_jp_store):
    email, trust = tls_smtp
    run = setup(email=email)
    _, counts = run(make_declaration(acp=None))  # a server whose certificate no trusted CA signed: a stranger
    assert counts["failed"] == 1 and FakeSMTP.logins == [] and FakeSMTP.received == []
    [error] = [r["last_error"] for r in fba_jp_store.db["notifications"].rows if r["action"] == "notify_email"]
    assert "CERTIFICATE_VERIFY_FAILED" in error and "smtp-pa55word" not in error
    trust()  # the same server, now known: the failed message goes out with the next one
    run = setup(email=email)
    _, counts = run(make_declaration(importer_of_record={"name": "Amazon Japan G.K."}))
    assert counts["sent"] == 2 and counts["failed"] == 0 and len(FakeSMTP.logins) == 2
    assert any("IOR_AMAZON" in message for message in FakeSMTP.received)


def test_implicit_tls_sends_over_smtps(setup, tls_smtp):
    email, trust = tls_smtp
    FakeSMTP.implicit = True
    del email["starttls"]
    trust()
    run = setup(email={**email, "implicit_tls": True})
    _, counts = run(make_declaration(importer_of_record={"name": "Amazon Japan G.K."}))
    assert counts["sent"] == 1 and len(FakeSMTP.logins) == 1 and "IOR_AMAZON" in FakeSMTP.received[0]


def test_smtps_defaults_to_port_465_and_cannot_also_ask_for_starttls():
    email = {"smtp_host": "smtp.example.com", "username": "ops", "password": "env:SMTP_PASSWORD",
             "sender": "fba-jp@example.test", "to": ["ops@example.test"]}
    assert Config.model_validate({"actions": {"email": email}}).actions.email.smtp_port == 587
    smtps = Config.model_validate({"actions": {"email": {**email, "implicit_tls": True}}}).actions.email
    assert smtps.smtp_port == 465 and not smtps.starttls
    with pytest.raises(ValueError, match="implicit_tls = true and starttls = true"):
        Config.model_validate({"actions": {"email": {**email, "implicit_tls": True, "starttls": True}}})


def test_literal_webhook_secret_is_refused():
    with pytest.raises(ValueError, match="env:"):
        Config.model_validate({"actions": {"webhook": {"url": URL, "secret": "plain-text"}}})
