"""The Starlette application: one wrapper gives every page its user, store, CSRF check and JSON twin.

Each page is a plain function ``page(ctx) -> Page | Redirect | Response`` (in ``routes``), run in a
worker thread with its own SQLite connection, so a slow query never blocks the event loop and no
connection is shared between threads. What a browser sees on failure is one readable sentence: a
missing or locked database is a 503, anything unexpected a 500 whose traceback goes to the server log
only.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable
from urllib.parse import quote

from jinja2 import PackageLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..config import Config
from ..errors import FbaJpError, StoreError
from ..redact import redact
from ..report import template_environment
from ..store import Store, to_json
from .auth import COOKIE, Auth, Session, User

log = logging.getLogger("fba_jp.web")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
BUSY_TIMEOUT_MS = 5000  # a page waits at most this long for another writer, then says so (503)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Problem(Exception):
    """An answer other than the page: ``status`` and one sentence for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Page:
    template: str
    data: dict  # the JSON twin; also given to the template
    context: dict = field(default_factory=dict)  # template-only extras (not JSON-able or not for the API)
    status: int = 200


@dataclass
class Redirect:
    url: str
    flash: str | None = None


@dataclass
class Server:
    """What every request shares: set once when the app is built."""

    config: Config
    db_path: str
    auth: Auth
    loopback: bool
    plugins: Any = None  # loaded on the first rescreen
    env: Any = None

    def __post_init__(self):
        self.env = template_environment(PackageLoader("fba_jp", "web/templates"))
        self.env.globals.update(version=__version__, auth_enabled=self.auth.enabled, quote=quote)

    def get_plugins(self):
        if self.plugins is None:
            from ..plugin_manager import get_plugins

            self.plugins = get_plugins()
        return self.plugins


class Ctx:
    """One request as a page sees it."""

    def __init__(self, request: Request, server: Server, session: Session, user: User | None, form: dict | None):
        self.request = request
        self.server = server
        self.session = session
        self.user = user
        self.form = form or {}
        self.path_params = request.path_params
        self.query = request.query_params
        self.wants_json = request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")
        self.session_changed = False

    @cached_property
    def store(self) -> Store:
        path = self.server.db_path
        if path != ":memory:" and not os.path.exists(path):
            raise Problem(503, f"The database {path} does not exist yet. Run `fba-jp sync` (or `fba-jp demo`) to create it.")
        return Store(path, timeout=BUSY_TIMEOUT_MS / 1000)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    def field(self, name: str, required: bool = False, label: str | None = None) -> str | None:
        value = self.form.get(name)
        value = value.strip() if isinstance(value, str) else None
        if required and not value:
            raise Problem(400, f"{label or name}: required; fill it in and send the form again")
        return value or None


def render(server: Server, ctx: Ctx, page: Page) -> Response:
    if ctx.wants_json:
        return Response(to_json(page.data), status_code=page.status, media_type="application/json")
    flash, ctx.session.flash = ctx.session.flash, None
    if flash:
        ctx.session_changed = True
    html = server.env.get_template(page.template).render(
        **page.data, **page.context, user=ctx.user, csrf=ctx.session.csrf, path=ctx.request.url.path, flash=flash,
    )
    return HTMLResponse(html, status_code=page.status)


def problem_response(server: Server, ctx: Ctx | None, status: int, message: str) -> Response:
    message = redact(message)  # a store's or a plugin's exception may quote a secret
    if ctx is not None and ctx.wants_json:
        return Response(to_json({"error": message, "status": status}), status_code=status, media_type="application/json")
    html = server.env.get_template("error.html").render(
        status=status, message=message, user=ctx.user if ctx else None, csrf=ctx.session.csrf if ctx else "",
        path="", flash=None,
    )
    return HTMLResponse(html, status_code=status)


def _call(function: Callable, ctx: Ctx):
    try:
        return function(ctx)
    finally:
        ctx.close()


def view(function: Callable, *, write: bool = False, public: bool = False):
    """Wrap a page function: session, login, CSRF on POST, role for writes, errors, cookie, headers."""

    async def endpoint(request: Request) -> Response:
        server: Server = request.app.state.server
        session = server.auth.load(request.cookies.get(COOKIE))
        user = server.auth.user(session)
        ctx = Ctx(request, server, session, user, None)
        try:
            if server.loopback and not server.auth.enabled and request.url.hostname not in LOOPBACK_HOSTS:
                # without authentication only this machine may ask: refuses DNS-rebinding pages too
                raise Problem(400, "This dashboard answers only on 127.0.0.1/localhost (no users are configured).")
            if request.method == "POST":
                ctx.form = await _read_form(request)
                if user is None and not public:
                    raise Problem(401, "Log in first.")
                if not server.auth.csrf_ok(session, ctx.form.get("csrf")):
                    raise Problem(403, "The form's security token is missing or out of date: reload the page and send it again.")
            if user is None and not public:
                if ctx.wants_json:
                    raise Problem(401, "Log in first (POST /login with name and password, then send the session cookie).")
                return _finish(server, ctx, RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303))
            if write and not user.operator:
                raise Problem(403, f"{user.name} is a viewer; only operators may change records.")
            result = await run_in_threadpool(_call, function, ctx)
        except Problem as exc:
            result = problem_response(server, ctx, exc.status, exc.message)
        except StoreError as exc:
            # the store says both "the database is locked/unreadable" and "nothing to waive": tell them apart
            if not _unavailable(exc):
                result = problem_response(server, ctx, 400, str(exc))
            else:
                log.warning("database unavailable for %s %s: %s", request.method, request.url.path, exc)
                result = problem_response(server, ctx, 503, f"The database is unavailable right now ({_one_line(exc)}). "
                                                            "Try again in a moment.")
        except sqlite3.DatabaseError as exc:
            log.warning("database unavailable for %s %s: %s", request.method, request.url.path, exc)
            result = problem_response(server, ctx, 503, f"The database is unavailable right now ({_one_line(exc)}). "
                                                        "Try again in a moment.")
        except FbaJpError as exc:
            result = problem_response(server, ctx, 400, str(exc))
        except Exception:  # noqa: BLE001 - never a traceback to the browser
            log.exception("internal error on %s %s", request.method, request.url.path)
            result = problem_response(server, ctx, 500, "Something went wrong on the server; the error is in its log.")
        if isinstance(result, Redirect):
            if result.flash:
                session.flash = result.flash
                ctx.session_changed = True
            result = RedirectResponse(result.url, status_code=303)
        elif isinstance(result, Page):
            result = render(server, ctx, result)
        return _finish(server, ctx, result)

    return endpoint


def _finish(server: Server, ctx: Ctx, response: Response) -> Response:
    session = ctx.session
    if session.fresh or ctx.session_changed:
        response.set_cookie(
            COOKIE, server.auth.dump(session), max_age=server.auth.max_age, httponly=True, samesite="lax", path="/",
            secure=server.auth.secure_cookies or ctx.request.url.scheme == "https",
        )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _read_form(request: Request) -> dict:
    form = await request.form()
    values: dict = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            values[key] = (value.filename or "upload.csv", await value.read())
        else:
            values[key] = value
    return values


def _unavailable(exc: StoreError) -> bool:
    text = str(exc)
    return any(marker in text for marker in ("write failed", "cannot open", "cannot create", "refusing to use",
                                              "database is locked", "disk I/O"))


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def create_app(config: Config, db_path: str, *, loopback: bool = True) -> Starlette:
    """The dashboard over ``db_path``. ``loopback``: bound to a loopback address only."""
    from .routes import ROUTES

    server = Server(config=config, db_path=db_path, auth=Auth(config.serve), loopback=loopback)

    async def not_found(request: Request, exc: HTTPException) -> Response:
        session = server.auth.load(request.cookies.get(COOKIE))
        ctx = Ctx(request, server, session, server.auth.user(session), None)
        return _finish(server, ctx, problem_response(server, ctx, exc.status_code, exc.detail or "Not found"))

    routes = [Route(path, view(function, **options), methods=methods) for path, methods, function, options in ROUTES]
    routes.append(Mount("/static", StaticFiles(packages=[("fba_jp.web", "static")]), name="static"))
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.server = server
    return app
