"""Action: POST each verdict change as JSON to ``[actions.webhook] url``.

The body is signed: ``X-FBA-JP-Signature: sha256=<hex HMAC-SHA256 of the body>`` with the secret from
``[actions.webhook] secret`` (an ``env:`` reference), so the receiver can check it came from fba-jp.
Delivery is at least once (fba_jp/actions.py): ``X-FBA-JP-Event`` and ``Idempotency-Key`` carry the event
id, and a receiver that sees one twice (a retry after a timeout, a delivery taken over after a crash) drops
it. Non-2xx answers and network errors are retried with backoff; then the action fails and is retried on
the next run. ``url`` may be an ``env:`` reference; it appears in messages only as ``scheme://host/…``.
"""

import hashlib
import hmac
import json

from fba_jp import hookimpl
from fba_jp.actions import event_payload
from fba_jp.config import resolve_env
from fba_jp.redact import redact, redact_url

BACKOFF_S = 0.5


@hookimpl
def on_verdict_change(change, context):
    webhook = context.config.actions.webhook
    if webhook is None:
        return None
    import httpx  # here, not at the top: every `fba-jp gate` loads this plugin, few send webhooks

    url = resolve_env(webhook.url) if webhook.url.startswith("env:") else webhook.url
    if url is None or not url.startswith(("http://", "https://")):
        raise RuntimeError(f"webhook url {webhook.url} is not set in the environment to an http(s) URL")
    body = json.dumps(event_payload(change), ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "fba-jp", "X-FBA-JP-Event": change.event_id,
               "Idempotency-Key": change.event_id}
    secret = resolve_env(webhook.secret)
    if webhook.secret and secret is None:
        raise RuntimeError(f"webhook secret {webhook.secret} is not set in the environment")
    if secret:
        headers["X-FBA-JP-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    last_error = None
    for attempt in range(webhook.retries + 1):
        if attempt:
            context.sleep(BACKOFF_S * 2 ** (attempt - 1))  # wakes when the daemon is asked to stop
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=webhook.timeout_seconds)
        except httpx.HTTPError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            continue
        if 200 <= response.status_code < 300:
            return True
        last_error = f"HTTP {response.status_code}"
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            break  # the receiver rejects the request itself: retrying now will not help
    raise RuntimeError(f"webhook {redact_url(url)} failed after {attempt + 1} attempt(s): {redact(last_error)}")
