"""symgraph: computation graphs and their derivatives by symbol-to-symbol reverse mode, explained."""

from symgraph.api import Derivation, derive
from symgraph.errors import CheckFailed, EvaluationError, InputError, LimitError, ParseError, SymgraphError
from symgraph.notation import digits
from symgraph.ops import relu, sigmoid, softplus, step

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


def __getattr__(name: str):
    """`symgraph.layers` is imported on first use, so that `import symgraph` (and `symgraph derive`) does not
    import the network builders."""
    if name == "layers":
        from symgraph.teach import layers

        return layers
    raise AttributeError(f"module 'symgraph' has no attribute {name!r}")
