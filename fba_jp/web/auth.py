"""Who is asking: users from ``[serve]``, signed session cookies, CSRF tokens, roles and account scope.

Passwords are stored only as argon2 hashes (``fba-jp serve --hash-password``), and ``[serve]`` takes a
hash or an ``env:`` reference to one. The session is a cookie signed with itsdangerous (HttpOnly,
SameSite=Lax, Secure over https), holding the user's name and the CSRF token every form posts back.
Without users the dashboard is for the local machine only: everyone is the operator ``local``.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..config import ServeConfig, resolve_env
from ..errors import ConfigError

COOKIE = "fba_jp_session"


@dataclass(frozen=True)
class User:
    name: str
    role: str  # viewer | operator
    accounts: tuple[str, ...] | None  # None: every account

    @property
    def operator(self) -> bool:
        return self.role == "operator"

    @property
    def unscoped(self) -> bool:
        return self.accounts is None

    def sees(self, account: str | None) -> bool:
        """May this user see a shipment (or run, record) of ``account``? Unscoped users see all."""
        return self.accounts is None or account in self.accounts


LOCAL = User("local", "operator", None)


@dataclass
class Session:
    user: str | None
    csrf: str
    fresh: bool = False  # not from a cookie: the response must set it
    flash: str | None = None  # one message for the next page shown ("waived ACP_PENDING …")


class Auth:
    def __init__(self, serve: ServeConfig):
        self.users = {u.name: u for u in serve.users}
        key = None
        if serve.secret_key:
            key = resolve_env(serve.secret_key)
            if not key:
                raise ConfigError(f"serve.secret_key: the environment variable {serve.secret_key[4:]} is not set or empty")
        self._serializer = URLSafeTimedSerializer(key or secrets.token_urlsafe(32), salt="fba-jp.session")
        self.max_age = int(serve.session_hours * 3600)
        self.secure_cookies = serve.secure_cookies
        self._hasher = PasswordHasher()
        self._hashes = {}
        for user in serve.users:
            value = resolve_env(user.password_hash) if user.password_hash.startswith("env:") else user.password_hash
            if not value or not value.startswith("$argon2"):
                raise ConfigError(f"serve.users: {user.name}: password_hash {user.password_hash[:40]!r} does not give an "
                                  "argon2 hash; make one with `fba-jp serve --hash-password`")
            self._hashes[user.name] = value

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    def user(self, session: Session) -> User | None:
        if not self.enabled:
            return LOCAL
        config = self.users.get(session.user or "")
        if config is None:
            return None
        return User(config.name, config.role, tuple(config.accounts) if config.accounts is not None else None)

    def authenticate(self, name: str, password: str) -> bool:
        stored = self._hashes.get(name)
        try:
            return self._hasher.verify(stored or _dummy_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def load(self, cookie: str | None) -> Session:
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=self.max_age)
                return Session(user=data.get("u"), csrf=data["c"], flash=data.get("f"))
            except (BadSignature, KeyError, TypeError, AttributeError):
                pass
        return Session(user=None, csrf=secrets.token_urlsafe(24), fresh=True)

    def dump(self, session: Session) -> str:
        data = {"u": session.user, "c": session.csrf}
        return self._serializer.dumps(data | {"f": session.flash} if session.flash else data)

    @staticmethod
    def csrf_ok(session: Session, token: str | None) -> bool:
        return bool(token) and not session.fresh and hmac.compare_digest(session.csrf, str(token))


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name takes as long as a wrong password."""
    return PasswordHasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return PasswordHasher().hash(password)
