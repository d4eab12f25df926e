"""``fba-jp serve``: the web dashboard (Starlette on uvicorn), imported only when this command runs."""

from __future__ import annotations

import ipaddress
import sys

import click

from ..errors import ConfigError, UsageError
from .common import App, common_options


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback needs users in [serve] of config.toml.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--hash-password", is_flag=True,
              help="Read a password (prompted, or one line on stdin), print its argon2 hash for [serve] users, and exit.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True)
@common_options
def serve(app: App, host, port, hash_password, log_level):
    """Serve the dashboard: shipments, releases, registries and daemon status, with a JSON twin of every page."""
    if hash_password:
        from ..web.auth import hash_password as make_hash

        password = click.prompt("Password", hide_input=True, confirmation_prompt=True) if sys.stdin.isatty() \
            else sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--hash-password: the password is empty")
        click.echo(make_hash(password))
        return
    config = app.config
    loopback = is_loopback(host)
    if not loopback and not config.serve.users:
        raise ConfigError(
            f"serve: refusing to listen on {host} without authentication; add [[serve.users]] to the config "
            "(see config.example.toml) or bind to 127.0.0.1"
        )
    db_path = app.db_path or str(config.resolve(config.storage.path))
    import uvicorn

    from ..web.app import create_app

    web = create_app(config, db_path, loopback=loopback)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"fba-jp dashboard on http://{shown}:{port}/ over {db_path}"
               + ("" if config.serve.users else " (no users configured: local access only)"), err=True)
    # proxy_headers: behind a TLS proxy on this machine, X-Forwarded-Proto=https makes cookies Secure
    uvicorn.run(web, host=host, port=port, log_level=log_level, proxy_headers=True, server_header=False,
                access_log=log_level == "debug")
