"""fba-jp: a pre-shipment gate for Amazon FBA inventory shipped into Japan."""

from .hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["hookimpl", "Declaration", "Finding", "Valuation", "__version__"]


def __getattr__(name: str):
    # the models load on first use, not on `import fba_jp`: the pytest plugin, `fba-jp --help` and
    # hookspecs-only imports stay cheap (``from fba_jp import Finding`` works as before)
    if name in ("Declaration", "Finding", "Valuation"):
        from . import models

        return getattr(models, name)
    raise AttributeError(f"module 'fba_jp' has no attribute {name!r}")
