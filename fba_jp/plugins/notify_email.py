"""Action: e-mail each verdict change through SMTP (``[actions.email]``), using only the standard library."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fba_jp import hookimpl
from fba_jp.config import resolve_env

if TYPE_CHECKING:
    from email.message import EmailMessage


def compose(change, sender, to) -> EmailMessage:
    from email.message import EmailMessage  # here, not at the top: every `fba-jp gate` loads this plugin

    message = EmailMessage()
    codes = ", ".join(change.blocking_codes or change.warning_codes) or "no findings"
    message["Subject"] = f"[fba-jp] {change.shipment_id} {change.verdict.upper()}: {codes}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["X-FBA-JP-Event"] = change.event_id
    lines = [
        f"Shipment {change.shipment_id} (account {change.account or '-'}, plan {change.inbound_plan_id or '-'})",
        f"is now {change.verdict}" + (f" (was {change.previous_verdict})." if change.previous_verdict else "."),
        "",
    ]
    for f in change.result.findings:
        if f.severity in ("block", "warn") and not f.waived:
            lines += [f"{f.severity.upper()} {f.code}{' [' + f.sku + ']' if f.sku else ''}: {f.message}",
                      f"  Fix: {f.remedy}" if f.remedy else "", f"  Rule: {f.reference}" if f.reference else "", ""]
    message.set_content("\n".join(line for line in lines if line is not None))
    return message


@hookimpl
def on_verdict_change(change, context):
    email = context.config.actions.email
    if email is None:
        return None
    import smtplib
    import ssl

    from fba_jp.redact import remember_login

    message = compose(change, email.sender, email.to)
    # the system's CAs and the host name checked (SSL_CERT_FILE names a private CA): smtplib's own default
    # context verifies nothing, so anyone on the path could pose as the server and read the password
    tls = ssl.create_default_context()
    if email.implicit_tls:
        connection = smtplib.SMTP_SSL(email.smtp_host, email.smtp_port, timeout=email.timeout_seconds, context=tls)
    else:
        connection = smtplib.SMTP(email.smtp_host, email.smtp_port, timeout=email.timeout_seconds)
    with connection as smtp:
        if email.starttls:
            smtp.starttls(context=tls)
        if email.username:
            password = resolve_env(email.password)
            if password is None:
                raise RuntimeError(
                    f"[actions.email] password: {email.password} is not set in the environment"
                    if email.password else
                    '[actions.email] password: username is set but password is not; add password = "env:NAME"')
            remember_login(email.username, password)  # a refusal may quote the base64 AUTH line
            smtp.login(email.username, password)
        smtp.send_message(message)
    return True
