"""symgraph: computation graphs and their derivatives by symbol-to-symbol reverse mode, explained."""

from symgraph.api import Derivation, derive
from symgraph.errors import CheckFailed, EvaluationError, InputError, LimitError, ParseError, SymgraphError
from symgraph.notation import digits
from symgraph.ops import relu, sigmoid, softplus, step
from symgraph.teach import layers

__all__ = [
    "derive",
    "Derivation",
    "digits",
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
    "layers",
]

__version__ = "0.1.0"
