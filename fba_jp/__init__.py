"""fba-jp: a pre-shipment gate for Amazon FBA inventory shipped into Japan."""

from .hookspecs import hookimpl
from .models import Declaration, Finding, Valuation

__version__ = "0.1.0"

__all__ = ["hookimpl", "Declaration", "Finding", "Valuation", "__version__"]
