"""The op registry and its families: importing this package registers every op, in one direction.

The registry (symgraph.ops.registry) knows nothing of the families; each family module registers
its own entries, one block per op: scalar (arithmetic, elementary and deep-learning functions),
elementary (tan … arccos, erf, log₂, log₁₀) and activations (gelu, silu, leaky_relu, elu …);
compare (the 0/1 indicators of < <= > >= ==);
on the tensor base (symgraph.ops.tensor: the SymPy citizen, notation pieces, the builder) linalg
(matrix products, transpose), reductions (sum, mean, softmax, losses), indexing (indexing, slicing,
reshaping, constant tensors), select (argmax, sort, topk, indexing by a computed index), conv
(convolution) and pool (pooling), the last two on the sliding window of symgraph.ops.window;
elementwise (max, min, clip, where, dropout: scalar ops of several arguments), extrema (max(X),
min(X)), statistics (norm, var, std, bce) and normalization (layer_norm, batch_norm).
"""

from symgraph.ops.registry import (
    ALIASES,
    FUNCTIONS,
    OPS,
    REQUIRED,
    Op,
    approximate,
    decompose,
    get,
    op_of_function,
    parameter,
    register,
    user_functions,
)

# isort: split
from symgraph.ops import (
    activations,
    compare,
    conv,
    elementary,
    elementwise,
    extrema,
    indexing,
    linalg,
    normalization,
    pool,
    reductions,
    scalar,
    select,
    statistics,
    tensor,
    window,
)
from symgraph.ops.scalar import logsigmoid, logsumexp, relu, sigmoid, softplus, step

__all__ = [
    "Op", "OPS", "FUNCTIONS", "ALIASES", "REQUIRED", "register", "get", "decompose", "op_of_function", "approximate",
    "parameter", "user_functions", "sigmoid", "softplus", "logsigmoid", "logsumexp", "relu", "step",
    "scalar", "compare", "elementary", "activations", "tensor", "linalg", "reductions", "indexing", "select", "window", "conv",
    "pool", "elementwise", "extrema", "statistics", "normalization",
]
