"""``fba-jp documents``: the commercial invoice, packing list and checklist of a screened shipment.

Exit codes: 0 final documents written (or ``--verify``: issued by fba-jp and still current) · 1 the
shipment is blocked: nothing written, or drafts with ``--draft`` (``--verify``: a draft, or its screening
is superseded) · 2 usage error · 3 final documents refused for missing data (one line per missing field),
bad input or database (``--verify``: the file is not one this database recorded).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import InputError, UsageError
from .common import App, common_options, plugins_dir_option


@click.command()
@click.argument("shipment_id", required=False)
@click.option("--file", "file_path", help="Screen this declaration file now and draft its documents.")
@click.option("--account", help="Account in config.toml whose profile (licences, ACP) applies.")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Directory to write the documents to.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "csv", "json"]), default="pdf", show_default=True,
              help="csv and json write the invoice's data, which `fba-jp gate` reads back.")
@click.option("--draft", is_flag=True, help="Write watermarked drafts for a blocked or incomplete shipment.")
@click.option("--verify", "verify_path", type=click.Path(dir_okay=False),
              help="Say whether FILE is a document fba-jp issued, from which screening, and if it is current.")
@plugins_dir_option
@common_options
def documents(app: App, shipment_id, file_path, account, out_dir, fmt, draft, verify_path):
    """Draft the shipping documents of SHIPMENT_ID (a stored shipment) or of --file."""
    from ..documents import DocumentRefused, documents_for, issue, verify

    ctx = click.get_current_context()
    # only --file screens (and may start a database); a stored shipment or --verify reads one that exists
    app.existing_db_only = not file_path
    if verify_path:
        if shipment_id or file_path:
            raise UsageError("documents: --verify FILE takes no SHIPMENT_ID or --file")
        try:
            data = Path(verify_path).read_bytes()
        except OSError as exc:
            raise InputError(f"{verify_path}: cannot read: {exc.strerror}") from None
        answer = verify(app.store, data)
        click.echo(json.dumps(answer, indent=2))
        click.echo(_verdict_line(verify_path, answer), err=True)
        ctx.exit(0 if answer["issued"] and answer["current"] and not answer["draft"] else 1 if answer["issued"] else 3)
    declaration, result = _screened(app, shipment_id, file_path, account)
    try:
        docs = documents_for(app.config, app.store, declaration, result, draft)
    except DocumentRefused as refused:
        for line in refused.problems:
            click.echo(f"{declaration.shipment_id}: {line}" if not line.startswith(declaration.shipment_id) else line,
                       err=True)
        click.echo(f"{declaration.shipment_id}: no final documents written; pass --draft for watermarked drafts",
                   err=True)
        ctx.exit(3 if refused.missing else 1)
    for written in issue(app.store, docs, Path(out_dir), fmt):
        click.echo(str(written.path))
    if docs.draft:
        click.echo(f"{declaration.shipment_id}: DRAFT documents (not for customs): "
                   f"{len(docs.blocking)} blocking item(s) listed on every page", err=True)
    ctx.exit(1 if docs.draft else 0)


def _screened(app: App, shipment_id, file_path, account):
    """The declaration and the screening the documents are drawn from."""
    if file_path:
        from ..inputs import read_declaration

        declaration, source = read_declaration(file_path)
        if shipment_id and shipment_id != declaration.shipment_id:
            raise UsageError(f"documents: {file_path} declares shipment {declaration.shipment_id}, not {shipment_id}")
        return declaration, app.screener().screen(declaration, source, account)
    if not shipment_id:
        raise UsageError("documents: give SHIPMENT_ID (a stored shipment), --file DECLARATION or --verify FILE")
    from ..documents import screened_now

    found = screened_now(app, shipment_id)
    if found is None:
        raise InputError(f"{shipment_id}: no screened shipment with this id in {app.store.path}; "
                         "run fba-jp sync and fba-jp screen, or pass --file DECLARATION")
    return found


def _verdict_line(path: str, answer: dict) -> str:
    if not answer["issued"]:
        return f"{path}: NOT issued by fba-jp in this database (sha256 {answer['sha256'][:16]}…)"
    state = "current" if answer["current"] else (
        f"SUPERSEDED by screening #{answer['latest_screening_id']}"
        + (" (the declaration changed)" if answer.get("input_changed") else f" ({answer.get('latest_verdict')})"))
    return (f"{path}: issued by fba-jp on {answer['issued_at']}: {'DRAFT ' if answer['draft'] else ''}"
            f"{answer['kind']} of {answer['shipment_id']} from screening #{answer['screening_id']}, {state}")
