"""The op registry and its families: importing this package registers every op, in one direction.

The registry (symgraph.ops.registry) knows nothing of the families; each family module registers
its own entries: scalar (arithmetic, elementary and deep-learning functions), tensor (shapes,
matrix products, reductions), conv (convolution and pooling).
"""

from symgraph.ops import conv as conv
from symgraph.ops import scalar as scalar
from symgraph.ops import tensor as tensor
from symgraph.ops.registry import FUNCTIONS, OPS, REQUIRED, Op, approximate, decompose, get, op_of_function, register
from symgraph.ops.scalar import logsigmoid, logsumexp, relu, sigmoid, softplus, step

__all__ = [
    "Op", "OPS", "FUNCTIONS", "REQUIRED", "register", "get", "decompose", "op_of_function", "approximate",
    "sigmoid", "softplus", "logsigmoid", "logsumexp", "relu", "step", "scalar", "tensor", "conv",
]
