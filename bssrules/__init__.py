"""bssrules: author, check and apply the rules of a telecom product catalog.

The public surface is deliberately small; see ``__all__``.
"""
__version__ = "0.1.0"

from bssrules.errors import (  # noqa: E402
    BssRulesError, Conflict, Diagnostic, InvalidInput, InvalidSource, NotFound, UnknownReference,
)
from bssrules.money import Money, allocate  # noqa: E402

__all__ = [
    "__version__", "BssRulesError", "Conflict", "Diagnostic", "InvalidInput", "InvalidSource", "NotFound",
    "UnknownReference", "Money", "allocate",
]
