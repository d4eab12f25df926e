"""``config.toml`` (CONTRACT §6): storage, schedule, seller accounts, policy.

Secrets are never written in the file: credentials are ``env:NAME`` references resolved only when
the SP-API client is built, so they cannot reach the database, logs or reports.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError, validation_lines
from .models import COULD_NOT_SCREEN, Acp, Amount, Currency, Filing, Licence, OriginProof, Party, Seller, ValuationAgreement

SECRET_KEYS = frozenset({"refresh_token", "lwa_app_id", "lwa_client_secret", "secret", "password", "secret_key",
                         "password_hash"})
DEFAULT_CONFIG = "config.toml"
# how far back a first sync looks for changed plans; here, not in sync.py, so `fba-jp --help` needs no SP-API
DEFAULT_LOOKBACK_DAYS = 90


class Section(BaseModel):
    # built on first validation, not on import: `fba-jp gate` without a config file validates none of them
    # (load_config constructs the defaults), and ~20 ms of a gate's start is building these models
    model_config = ConfigDict(extra="forbid", defer_build=True)


class StorageConfig(Section):
    path: str = "fba_jp.db"


class ScheduleConfig(Section):
    interval_minutes: Annotated[int, Field(gt=0)] | None = None
    # for tests and demos: overrides interval_minutes
    interval_seconds: Annotated[int, Field(gt=0)] | None = None
    cron: str | None = None
    jitter_seconds: Annotated[int, Field(ge=0)] = 30


class SyncConfig(Section):
    # accounts synced (and, in the daemon, screened) at the same time: each seller has its own SP-API
    # rate limits, so a sync mostly waits on its own account's limiter and many can wait together
    concurrent_accounts: Annotated[int, Field(ge=1, le=64)] = 16


def _env_reference(value):
    if isinstance(value, str) and not value.startswith("env:"):
        raise ValueError('secrets may only be env: references, e.g. "env:MY_SELLER_REFRESH_TOKEN"')
    return value


EnvRef = Annotated[str, BeforeValidator(_env_reference), Field(pattern=r"^env:[A-Za-z_][A-Za-z0-9_]*$")]


def resolve_env(ref: str | None) -> str | None:
    """The value of an ``env:NAME`` reference (``None`` when unset or empty), remembered as a secret so that
    :func:`fba_jp.redact.redact` hides it from every message. A value too short to hide is a
    :class:`ConfigError`."""
    from .redact import MIN_SECRET, remember_secret

    value = (os.environ.get(ref[4:]) or None) if ref else None
    if value is not None and len(value) < MIN_SECRET:
        raise ConfigError(f"{ref} is set to {len(value)} character(s): a secret that short cannot be kept out of "
                          "messages and logs (hiding it would garble ordinary text); set it to the real credential")
    return remember_secret(value)


class FreightConfig(Section):
    """``[accounts.freight]``: how freight to the Japanese port is known for this seller's shipments.

    ``rate_per_kg``: ``rate`` per chargeable kg (each box the greater of its gross weight and its volume
    ÷ ``volumetric_divisor`` cm³/kg, rounded up to ``round_up_to_kg``), from Amazon's box data;
    ``per_shipment`` / ``per_box``: a fixed ``amount``; ``quote_file``: the forwarder's quote per shipment
    in the CSV ``quotes`` (``shipment_id,amount,currency,quoted_on,reference``); ``invoice``: only the
    actual freight invoice, entered with ``fba-jp freight set``, which also overrides every other method.
    """

    method: Literal["rate_per_kg", "per_shipment", "per_box", "quote_file", "invoice"]
    rate: Annotated[Amount, Field(gt=0)] | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    volumetric_divisor: Annotated[int, Field(ge=1000, le=10_000)] | None = None
    round_up_to_kg: Annotated[Amount, Field(gt=0, le=100)] = Decimal("0.5")
    quotes: str | None = None
    source: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    as_of: date | None = None
    allocation: Literal["value", "weight", "quantity"] = "value"

    @model_validator(mode="after")
    def _what_the_method_needs(self) -> "FreightConfig":
        needs = {
            "rate_per_kg": ("rate", "currency", "volumetric_divisor"),
            "per_shipment": ("amount", "currency"),
            "per_box": ("amount", "currency"),
            "quote_file": ("quotes",),
            "invoice": (),
        }[self.method]
        missing = [key for key in needs if getattr(self, key) is None]
        if missing:
            raise ValueError(f"method {self.method!r} needs {', '.join(missing)}")
        return self


class InsuranceConfig(Section):
    """``[accounts.insurance]``: cargo insurance the seller actually pays, so it is part of the customs value.

    ``rate_percent``: the premium rate on ``insured_value_percent`` (110 unless stated) of the goods'
    invoice value plus freight, as an open or per-shipment ``policy`` sets it; or ``premium``: a fixed
    amount per shipment. Without this table no insurance is added, and the screening says so.
    """

    rate_percent: Annotated[Amount, Field(gt=0, le=100)] | None = None
    insured_value_percent: Annotated[Amount, Field(ge=100, le=200)] = Decimal(110)
    premium: Amount | None = None
    currency: Currency | None = None
    policy: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    source: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    as_of: date | None = None

    @model_validator(mode="after")
    def _rate_or_premium(self) -> "InsuranceConfig":
        if (self.rate_percent is None) == (self.premium is None):
            raise ValueError("give the premium rate (rate_percent) or a premium per shipment (premium with currency), "
                             "not both" + (" or a policy alone" if self.policy else ""))
        if self.premium is not None and self.currency is None:
            raise ValueError("premium needs its currency")
        return self


class AccountConfig(Section):
    """One seller account: SP-API credentials (as env references) and its import profile."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    marketplace: Literal["JP"] = "JP"
    refresh_token: EnvRef | None = None
    lwa_app_id: EnvRef | None = None
    lwa_client_secret: EnvRef | None = None
    endpoint: str | None = None
    token_url: str | None = None
    seller: Seller
    importer_of_record: Party | None = None
    consignee: Party | None = None
    acp: Acp | None = None
    acp_id: str | None = None
    licences: list[Licence] = []
    origin_proofs: list[OriginProof] = []  # proofs of origin held for EPA preferential rates
    filings: list[Filing] = []
    products: str | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    annotate: bool = False
    # SP-API sync: days from the ready-to-ship date to the import declaration in Japan
    transit_days: Annotated[int, Field(ge=0, le=120)] = 0
    freight: FreightConfig | None = None
    insurance: InsuranceConfig | None = None
    valuation: ValuationAgreement | None = None  # [accounts.valuation]: the basis agreed with the ACP

    def secret(self, key: str) -> str | None:
        """Resolve an ``env:`` reference; ``None`` when the key is unset or the variable is empty."""
        return resolve_env(getattr(self, key))


# A code split off an older one (new code → old code): a severity set for the old code also applies to the
# new one unless it has its own entry, so a config written before the split means what it meant (docs/rules.md).
CODE_ALIASES = {"COS_NO_MANUFACTURING_LICENCE": "COS_NO_MAH"}


class PolicyConfig(Section):
    fail_on_warn: bool = False
    severity: dict[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")], Literal["block", "warn", "info"]] = {}

    @field_validator("severity")
    @classmethod
    def _could_not_screen_always_blocks(cls, severity: dict[str, str]) -> dict[str, str]:
        for code, level in severity.items():
            if code in COULD_NOT_SCREEN and level != "block":
                raise ValueError(f"{code} means the shipment could not be screened; it always blocks and cannot be set to {level!r}")
        return severity

    @model_validator(mode="after")
    def _aliases(self) -> "PolicyConfig":
        for new, old in CODE_ALIASES.items():
            if old in self.severity and new not in self.severity:
                self.severity[new] = self.severity[old]
        return self


class ValuationConfig(Section):
    identical_goods_window_days: Annotated[int, Field(ge=0, le=366)] = 31
    prefer_computed: bool = False
    # HS prefixes ("4202", "61", "6403.99") that replace the shipped list fba_jp/data/small_value_excluded.toml
    small_value_excluded_hs: list[Annotated[str, Field(pattern=r"^\s*\d{2}(\d|[.\-\s])*$")]] | None = None


HsHeading = Annotated[str, Field(pattern=r"^\s*\d{2}(\d|[.\-\s])*$")]


def _rate(value):
    # TOML 4.3 is a float: read it as written, never as its binary value
    return Decimal(repr(value)) if isinstance(value, float) else value


class RegimeOverride(Section):
    """Per-heading changes to one regime table (docs/rules.md "Overrides"): ``block`` headings make the
    regime's requirements apply, ``warn`` headings apply only with a keyword and warn alone, ``ignore``
    headings are out of the regime. The most specific heading wins; a declared category still outranks."""

    block: list[HsHeading] = []
    warn: list[HsHeading] = []
    ignore: list[HsHeading] = []

    @model_validator(mode="after")
    def _each_heading_once(self) -> "RegimeOverride":
        seen: dict[str, str] = {}
        for action in ("block", "warn", "ignore"):
            for heading in getattr(self, action):
                digits = "".join(c for c in heading if c.isdigit())
                if digits in seen:
                    raise ValueError(f"heading {heading!r} is listed under both {seen[digits]} and {action}")
                seen[digits] = action
        return self


class RulesConfig(Section):
    """Overrides of the shipped rule tables, each recorded in the audit row of a screening it changes."""

    regimes: dict[Literal["cosmetics", "pse", "food", "tableware", "radio", "psc"], RegimeOverride] = {}
    # HS heading → ad-valorem duty rate in percent, for items that declare no duty_rate
    duty_rates: dict[HsHeading, Annotated[Decimal, BeforeValidator(_rate), Field(ge=0, le=1000, allow_inf_nan=False)]] = {}


class RegulatedConfig(Section):
    pse_domestic_admin_from: date = date(2025, 12, 25)


class WebhookConfig(Section):
    # a URL may carry a token: give it as an env: reference to keep it out of the file; it is shown
    # everywhere only as scheme://host/… (fba_jp/redact.py)
    url: Annotated[str, Field(pattern=r"^(https?://|env:[A-Za-z_][A-Za-z0-9_]*$)")]
    # HMAC-SHA256 key for the X-FBA-JP-Signature header; a secret, so only as an env: reference
    secret: EnvRef | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10
    retries: Annotated[int, Field(ge=0, le=10)] = 3


class EmailConfig(Section):
    smtp_host: str
    # 587 with STARTTLS, 465 with implicit_tls (SMTPS) unless given
    smtp_port: Annotated[int, Field(gt=0, lt=65536)] | None = None
    starttls: bool = True
    # TLS from the first byte (SMTPS, port 465), as many providers offer; starttls is then not used
    implicit_tls: bool = False
    username: str | None = None
    password: EnvRef | None = None
    sender: str
    to: Annotated[list[str], Field(min_length=1)]
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10

    @model_validator(mode="after")
    def _tls_port_and_password(self) -> "EmailConfig":
        if self.implicit_tls and self.starttls and "starttls" in self.model_fields_set:
            raise ValueError("implicit_tls = true and starttls = true: the connection is TLS from the start "
                             "(port 465); remove starttls, or set implicit_tls = false for STARTTLS (port 587)")
        if self.implicit_tls:
            self.starttls = False
        if self.smtp_port is None:
            self.smtp_port = 465 if self.implicit_tls else 587
        # a login without TLS sends the password readable to anyone on the path; a relay on this machine is fine
        if self.username and not (self.starttls or self.implicit_tls) and self.smtp_host not in (
                "127.0.0.1", "::1", "localhost"):
            raise ValueError(f"starttls = false with a username would send the SMTP password unencrypted to "
                             f"{self.smtp_host}: set starttls = true (port 587) or implicit_tls = true (port 465), "
                             "or use a relay on this machine")
        return self


class ActionsConfig(Section):
    log: bool = True
    webhook: WebhookConfig | None = None
    email: EmailConfig | None = None


def _password_hash(value):
    if isinstance(value, str) and not value.startswith(("env:", "$argon2")):
        raise ValueError('must be an argon2 hash ("$argon2id$…", from `fba-jp serve --hash-password`) or an env: '
                         "reference to one; a plain password is refused")
    return value


class ServeUser(Section):
    """A dashboard user (``fba-jp serve``): viewers read, operators also release and edit registries."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")]
    role: Literal["viewer", "operator"] = "viewer"
    password_hash: Annotated[str, BeforeValidator(_password_hash), Field(max_length=500)]
    # the accounts this user may see (an ACP firm gives each seller its own); omitted = every account
    accounts: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]] | None = None


class ServeConfig(Section):
    """``[serve]``: who may use the dashboard. Without users it only binds to loopback."""

    users: list[ServeUser] = []
    # signs session cookies; without it a random key per process (everyone logs in again after a restart)
    secret_key: EnvRef | None = None
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12
    # Secure cookies even when the request did not arrive over https (a TLS proxy that sets no
    # X-Forwarded-Proto); over https they are Secure anyway
    secure_cookies: bool = False
    # screen a shipment again right after a release from the dashboard, so the page shows the waiver applied
    rescreen_on_release: bool = True


class Config(Section):
    storage: StorageConfig = StorageConfig.model_construct()
    schedule: ScheduleConfig = ScheduleConfig.model_construct()
    sync: SyncConfig = SyncConfig.model_construct()
    accounts: list[AccountConfig] = []
    policy: PolicyConfig = PolicyConfig.model_construct()
    valuation: ValuationConfig = ValuationConfig.model_construct()
    regulated: RegulatedConfig = RegulatedConfig.model_construct()
    rules: RulesConfig = RulesConfig.model_construct()
    actions: ActionsConfig = ActionsConfig.model_construct()
    serve: ServeConfig = ServeConfig.model_construct()
    # [plugins.NAME]: each plugin's settings, validated by the model it registers (fba_jp.plugin_manager)
    plugins: dict[str, dict[str, Any]] = {}
    # the directory relative paths (products.csv, storage.path) are resolved against
    base_dir: Path = Field(default=Path("."), exclude=True)
    # the file it was read from, for messages
    source: str = Field(default=DEFAULT_CONFIG, exclude=True)

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise ConfigError(f"no account named {name!r} in config (accounts: {known})")

    def resolve(self, path: str) -> Path:
        return (self.base_dir / path) if not Path(path).is_absolute() else Path(path)


def load_config(path: str | Path | None) -> Config:
    """Read ``path`` (or ``./config.toml`` if it exists; else defaults). Bad config → ``ConfigError``."""
    if path is None:
        if not Path(DEFAULT_CONFIG).exists():
            return Config.model_construct()  # what Config() gives (every default), without building the models
        path = DEFAULT_CONFIG
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; `fba-jp init` writes a starter one, or pass --config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        lines = validation_lines(exc, str(path), redact=SECRET_KEYS, schema_command="fba-jp config check --schema")
        raise ConfigError("\n".join(lines)) from None
    names = [a.name for a in config.accounts]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ConfigError(f"{path}: accounts: duplicate account name(s) {sorted(duplicates)}")
    if config.schedule.cron and config.schedule.interval_minutes:
        raise ConfigError(f"{path}: schedule: give interval_minutes or cron, not both")
    config.base_dir = path.parent
    config.source = str(path)
    remember_env_refs(data, _config_secret, str(path))  # [plugins.NAME] tables: Plugins.settings, by SECRET_NAME
    return config


def remember_env_refs(table: dict, is_secret: Callable[[str], bool], source: str, where: str = "") -> None:
    """Resolve the ``env:`` value of every key of ``table`` (nested tables and arrays of tables included) for
    which ``is_secret(key)``: redaction then hides the value from the start, though a plugin's or a library's
    exception may quote the environment before fba-jp itself reads the variable. A value too short to hide
    is a :class:`ConfigError` naming ``source`` and the key (``where`` is the table's own path)."""
    for key, value in table.items():
        path = f"{where}.{key}" if where else str(key)
        if isinstance(value, dict):
            remember_env_refs(value, is_secret, source, path)
        elif isinstance(value, list):  # [[accounts]], [[serve.users]], [[plugins.NAME.hooks]]
            for n, entry in enumerate(value):
                if isinstance(entry, dict):
                    remember_env_refs(entry, is_secret, source, f"{path}[{n}]")
        elif isinstance(value, str) and value.startswith("env:") and is_secret(str(key)):
            try:
                resolve_env(value)
            except ConfigError as exc:
                raise ConfigError(f"{source}: {path}: {exc}") from None


def _config_secret(key: str) -> bool:
    # the config's own secret keys, and the webhook URL (an env: reference when it carries a token)
    return key in SECRET_KEYS or key == "url"
