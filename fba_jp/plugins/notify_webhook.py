"""Action: POST each verdict change as JSON to ``[actions.webhook] url``.

The body is signed: ``X-FBA-JP-Signature: sha256=<hex HMAC-SHA256 of the body>`` with the secret from
``[actions.webhook] secret`` (an ``env:`` reference), so the receiver can check it came from fba-jp.
``X-FBA-JP-Event`` carries the event id: a receiver that sees one twice (a retry after a timeout) can drop it.
Non-2xx answers and network errors are retried with backoff; then the action fails and is retried on the
next run.
"""

import hashlib
import hmac
import json
import time

import httpx

from fba_jp import hookimpl
from fba_jp.actions import event_payload
from fba_jp.config import resolve_env

BACKOFF_S = 0.5


@hookimpl
def on_verdict_change(change, context):
    webhook = context.config.actions.webhook
    if webhook is None:
        return None
    body = json.dumps(event_payload(change), ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "fba-jp", "X-FBA-JP-Event": change.event_id}
    secret = resolve_env(webhook.secret)
    if webhook.secret and secret is None:
        raise RuntimeError(f"webhook secret {webhook.secret} is not set in the environment")
    if secret:
        headers["X-FBA-JP-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    last_error = None
    for attempt in range(webhook.retries + 1):
        if attempt:
            time.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            response = httpx.post(webhook.url, content=body, headers=headers, timeout=webhook.timeout_seconds)
        except httpx.HTTPError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            continue
        if 200 <= response.status_code < 300:
            return True
        last_error = f"HTTP {response.status_code}"
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            break  # the receiver rejects the request itself: retrying now will not help
    raise RuntimeError(f"webhook {webhook.url} failed after {attempt + 1} attempt(s): {last_error}")
