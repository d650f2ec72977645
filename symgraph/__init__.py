"""symgraph: computation graphs and their derivatives by symbol-to-symbol reverse mode, explained."""

from .api import Derivation, derive
from . import layers
from .errors import CheckFailed, EvaluationError, InputError, LimitError, ParseError, SymgraphError
from .ops import relu, sigmoid, softplus, step

__all__ = [
    "derive",
    "Derivation",
    "SymgraphError",
    "InputError",
    "ParseError",
    "LimitError",
    "EvaluationError",
    "CheckFailed",
    "sigmoid",
    "softplus",
    "relu",
    "step",
]

__version__ = "0.1.0"
