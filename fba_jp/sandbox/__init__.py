"""The built-in SP-API sandbox used by ``fba-jp demo`` and the integration tests (see :mod:`.server`)."""

from .server import Faults, Sandbox, load_sample

__all__ = ["Faults", "Sandbox", "load_sample"]
