"""The op registry and its families: importing this package registers every op, in one direction.

The registry (symgraph.ops.registry) knows nothing of the families; each family module registers
its own entries, one block per op: scalar (arithmetic, elementary and deep-learning functions),
compare (the 0/1 indicators of < <= > >= ==);
on the tensor base (symgraph.ops.tensor: the SymPy citizen, notation pieces, the builder) linalg
(matrix products, transpose), reductions (sum, mean, softmax, losses), indexing (indexing, slicing,
reshaping, constant tensors), conv (convolution) and pool (pooling), the last two on the sliding
window of symgraph.ops.window.
"""

from symgraph.ops.registry import FUNCTIONS, OPS, REQUIRED, Op, approximate, decompose, get, op_of_function, register

# isort: split
from symgraph.ops import compare, conv, indexing, linalg, pool, reductions, scalar, tensor, window
from symgraph.ops.scalar import logsigmoid, logsumexp, relu, sigmoid, softplus, step

__all__ = [
    "Op", "OPS", "FUNCTIONS", "REQUIRED", "register", "get", "decompose", "op_of_function", "approximate",
    "sigmoid", "softplus", "logsigmoid", "logsumexp", "relu", "step",
    "scalar", "compare", "tensor", "linalg", "reductions", "indexing", "window", "conv", "pool",
]
