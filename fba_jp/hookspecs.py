"""The plugin contract: every hook fba-jp calls, when it calls it, what it passes and what it expects back.

Plugins implement hooks with ``@fba_jp.hookimpl`` and a function named like the spec. They may accept
fewer arguments than the spec lists (pluggy passes only the ones asked for), never more. The built-in
checks in ``fba_jp/plugins/`` are written exactly this way; read them as examples. Each hook is
documented with the same signature in ``docs/plugins.md`` (a test keeps the two in step).
"""

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("fba_jp")
hookimpl = HookimplMarker("fba_jp")


@hookspec
def register_checks(register):
    """Register the checks this plugin provides.

    Called once, when the plugin manager is built (before any shipment is screened).

    ``register(function, name=None, codes=())`` adds one check. ``function(shipment)`` or
    ``function(shipment, context)`` is called for every shipment with the validated
    :class:`fba_jp.models.Declaration` and a :class:`fba_jp.runner.ScreeningContext`; it returns
    or yields :class:`fba_jp.Finding` objects (or nothing). Checks run after ``valuate_shipment``:
    ``context.valuation`` is the shipment's :class:`fba_jp.Valuation` (``None`` when nothing could
    be valued), computed once for all checks. ``name`` defaults to the function's name and must be
    unique; ``codes`` lists every finding code the check can emit, or maps each code to a one-line
    description (shown by ``fba-jp plugins``, used as SARIF rules).

    A check that raises (any exception, ``SystemExit`` and ``GeneratorExit`` included), returns something
    other than findings, returns a code it did not declare, or returns a finding already marked
    ``waived`` (only ``fba-jp release`` waives) does not stop the run: its shipment gets a
    ``PLUGIN_ERROR`` block finding naming the plugin and the message (secrets redacted), and the other
    checks and shipments still run. The declaration is hashed and stored as given, before any check runs.
    A check or hook must not change the declaration or ``context.valuation``: one that does gets a
    ``PLUGIN_ERROR``, and the shipment is screened again with each plugin handed copies of its own.
    Return value of the hook itself: ignored.
    """


@hookspec
def register_models(register):
    """Declare the pydantic models of this plugin's settings and of its data on declaration items.

    Called once, when the plugin manager is built. ``register(config=Model)``: the ``[plugins.NAME]``
    table of ``config.toml`` (NAME is the plugin's name, as ``fba-jp plugins`` lists it) is validated
    against ``Model`` whenever fba-jp loads the config with the plugins; an unknown key or a bad value
    fails in one line naming the plugin, and a key that names a secret (``token``, ``api_key``,
    ``password``, ``secret``…) must hold an ``env:`` reference. Checks and hooks read the settings with
    ``context.plugin_config(Model)`` (an instance; the defaults when the table is absent).

    ``register(item=Model)``: ``items[].extensions.NAME`` in a declaration is validated against
    ``Model`` before the shipment is screened (a bad value is an input error, exit 3, like any other
    field); read it with ``context.item_extension(item, Model)`` (``None`` when the item has none).
    Extension data that no loaded plugin declares is an error too.

    Both models must forbid unknown keys (``model_config = ConfigDict(extra="forbid")``).
    Return value: ignored.
    """


@hookspec(firstresult=True)
def valuate_shipment(shipment, context):
    """Compute the customs valuation and the duty and consumption-tax estimate of a shipment.

    Called once per shipment, before the checks (phase 1 of a screening; the checks are phase 2
    and read the winning valuation as ``context.valuation``). The first implementation that
    returns something other than ``None`` wins (``tryfirst=True`` lets a plugin replace the
    built-in ``valuation`` plugin). Implementations are called one at a time and isolated like
    checks: one that raises becomes ``PLUGIN_ERROR`` and the next implementation is not asked.

    Receives the :class:`fba_jp.models.Declaration` and the screening context. Returns a
    :class:`fba_jp.Valuation` or ``None``. Findings about the valuation are best reported by a
    check, which sees it; the valuation's own ``findings`` are still added to the shipment's.
    """


@hookspec(firstresult=True)
def reduced_tax_rate(item, shipment):
    """Say whether an item is taxed at the reduced consumption-tax rate (food and drink, not alcohol).

    Called by the valuation for every item whose declaration does not set ``reduced_tax_rate``.
    Receives the :class:`fba_jp.models.Item` and its :class:`fba_jp.models.Declaration`.
    Returns ``True`` (reduced 6.24 % national rate), ``False`` (standard 7.8 %) or ``None`` when
    this plugin has no opinion; the first non-``None`` answer wins and no answer means standard.
    """


@hookspec
def register_output_formats(register):
    """Register extra ``--output`` formats.

    Called once when the CLI starts. ``register(name, render)`` where ``render(document) -> str``
    receives the :class:`fba_jp.models.ResultDocument` and returns the text written to stdout.
    A name that is already taken is an error. Return value: ignored.
    """


@hookspec
def register_commands(cli):
    """Add sub-commands to the ``fba-jp`` command line.

    Called once when the CLI starts, with the root :class:`click.Group`; add commands with
    ``@cli.command()``. Return value: ignored.
    """


@hookspec
def on_verdict_change(change, context):
    """Act when a shipment's verdict is new or has changed: notify someone, annotate it on Amazon.

    Called by ``fba-jp run`` and ``fba-jp daemon`` after screening, once per shipment whose state (its
    verdict and unwaived blocking codes) differs from the last state announced — never twice for the
    same state, also across restarts. Each implementation is one *action*, called isolated: one that
    raises is recorded as failed in the ``notifications`` table and retried on later runs (up to 5
    attempts); the others still run.

    Receives a :class:`fba_jp.models.VerdictChange` (``event_id``, ``shipment_id``, ``account``,
    ``previous_verdict``, ``verdict``, ``blocking_codes``, ``warning_codes``, ``result``) and the
    screening context (``context.config``, ``context.account``, ``context.store``).
    Returns ``True`` when the action was delivered, ``None`` when it does not apply (not configured,
    or not for this change); raise to report a failure.
    """
