"""The registry is closed under differentiation: every op's derivatives, to second order, are built from registered ops.

Registration walks each scalar op's partials one level deep; here every entry is also walked to the
second order in evaluated form, differentiated through `derive` and checked against finite
differences, and README's list of functions is held against the registry.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symgraph import derive, ops
from symgraph.errors import InputError
from symgraph.ops import registry
from symgraph.ops.registry import Op, register, unregistered_head

SCALAR_OPS = sorted(name for name, op in ops.OPS.items() if not op.is_tensor)
TENSOR_OPS = sorted(name for name, op in ops.OPS.items() if op.is_tensor)

#: Scalar ops written as operators; every other scalar op is called by name on x (and y when n-ary).
OPERATORS = {"add": "x + y", "sub": "x - y", "neg": "-x", "mul": "x*y", "div": "x/y", "pow": "x**y",
             "lt": "(x < y)*x", "le": "(x <= y)*x", "gt": "(x > y)*y", "ge": "(x >= y)*y", "eq": "(x == y) + x"}
#: Away from every kink (0) and inside every domain (log, sqrt and a real power need x > 0).
POINT = {"x": 0.7, "y": 1.3}

#: One small program per tensor op, the op between its declared inputs and a scalar output.
TENSOR_PROGRAMS = {
    "matmul": "W: 3x2; h: 2; L = sum(tanh(W @ h))",
    "transpose": "X: 2x3; R: 3x2; L = sum(R * sin(X.T))",
    "dot": "a: 3; b: 3; L = dot(a, tanh(b))",
    "outer": "a: 2; b: 3; R: 2x3; L = sum(R * outer(a, tanh(b)))",
    "diag": "a: 3; R: 3x3; L = sum(R * diag(tanh(a)))",
    "diagonal": "A: 3x3; v: 3; L = dot(v, sin(diagonal(A)))",
    "sum": "X: 2x3; v: 3; L = dot(v, tanh(sum(X, axis=0))) + sin(sum(X))",
    "mean": "X: 3x2; w: 3; L = dot(w, sin(mean(X, axis=1))) + tanh(mean(X))",
    "softmax": "z: 4; w: 4; L = dot(w, softmax(z))",
    "log_softmax": "Z: 3x2; R: 3x2; L = sum(R * log_softmax(Z))",
    "reduce_logsumexp": "Z: 2x3; w: 2; L = dot(w, logsumexp(Z))",
    "concat": "a: 2; b: 3; w: 5; L = dot(w, tanh(concat(a, b)))",
    "slice": "x: 4; w: 2; L = dot(w, tanh(x[1:3]))",
    "index": "X: 2x3; L = sin(X[1, 0]) * X[0, 1]",
    "argmax": "z: 3; L = argmax(z) * dot(z, z)",
    "argmin": "Z: 2x3; L = sum(argmin(Z, axis=1)) * sum(Z * Z)",
    "argsort": "z: 3; L = dot(argsort(z), z)",
    "topk_indices": "z: 4; L = sum(topk_indices(z, 2)) * dot(z, z)",
    "take": "z: 3; X: 3x2; w: 2; L = dot(w, tanh(X[argmax(z)])) + dot(z, z)",
    "onehot_at": "z: 3; w: 3; L = dot(w, onehot(argmax(z), 3) * tanh(z))",
    "sort": "z: 4; w: 4; L = dot(w, tanh(sort(z)))",
    "topk": "z: 4; w: 2; L = dot(w, topk(z, 2) ** 2)",
    "sum_to": "X: 2x3; w: 3; L = dot(w, tanh(sum_to(X, 3)))",
    "cross_entropy": "W: 3x2; x: 2; L = cross_entropy(W @ x, 2)",
    "mse": "a: 3; b: 3; L = mse(tanh(a), b)",
    "flatten": "X: 2x3; w: 6; L = dot(w, tanh(flatten(X)))",
    "reshape": "X: 2x3; R: 3x2; L = sum(R * tanh(reshape(X, 3, 2)))",
    "ones": "x: 3; v: 3; L = dot(v, tanh(x + ones(3)))",
    "zeros": "x: 3; L = sum(tanh(x * x + zeros(3)))",
    "onehot": "x: 3; w: 3; L = dot(w, x * onehot(1, 3) + x**2)",
    "conv1d": "x: 2x7; w: 3x2x3; R: 3x4; L = sum(conv1d(x, w, stride=2, padding=1) * R)",
    "conv1d_kernel_grad": "x: 5; d: 3; L = sum(conv1d_kernel_grad(x, d, k=3))",
    "conv1d_input_grad": "d: 3; w: 3; L = sum(conv1d_input_grad(d, w, length=5))",
    "conv2d": "x: 1x5x5; K: 2x1x3x3; R: 2x3x3; L = sum(conv2d(x, K, stride=2, padding=1) * R)",
    "conv2d_kernel_grad": "x: 3x3; d: 2x2; L = sum(conv2d_kernel_grad(x, d, kh=2, kw=2))",
    "conv2d_input_grad": "d: 2x2; K: 2x2; L = sum(conv2d_input_grad(d, K, height=3, width=3))",
    "maxpool2d": "x: 4x4; R: 2x2; L = sum(maxpool2d(x, 2) * R)",
    "avgpool2d": "x: 4x4; R: 2x2; L = sum(avgpool2d(x, 2) * R)",
    "maxunpool2d": "x: 4x4; d: 2x2; L = sum(maxunpool2d(d, x, 2, 2))",
    "upsample2d": "d: 2x2; L = sum(upsample2d(d, 2, 2, 4, 4))",
    "reduce_max": "X: 2x3; v: 3; L = dot(v, tanh(max(X, axis=0))) + max(X)",
    "reduce_min": "X: 2x3; w: 2; L = dot(w, tanh(min(X, axis=1))) + min(X)",
    "max_mask": "X: 2x3; L = sum(max_mask(X, axis=0))",
    "min_mask": "x: 3; L = sum(min_mask(x))",
    "norm": "x: 3; X: 2x2; L = norm(tanh(x)) + norm(X, 1)",
    "var": "X: 2x3; v: 3; L = dot(v, var(X, axis=0)) + var(X)",
    "std": "X: 3x2; w: 3; L = dot(w, std(X, axis=1)) + std(X)",
    "bce": "z: 3; y: 3; L = bce(sigmoid(z), y)",
    "layer_norm": "X: 2x3; R: 2x3; L = sum(R * layer_norm(X))",
    "layer_norm_affine": "x: 3; g: 3; b: 3; v: 3; L = dot(v, tanh(layer_norm(x, g, b, eps=0.01)))",
    "batch_norm": "X: 3x2; R: 3x2; L = sum(R * batch_norm(X))",
    "batch_norm_affine": "X: 3x2; g: 2; b: 2; R: 3x2; L = sum(R * tanh(batch_norm(X, g, b)))",
    "stack": "a: 2; b: 2; R: 2x2; L = sum(R * tanh(stack(a, b))) + sum(stack(dot(a, b), a[0]))",
    "unslice": "d: 2x2; L = sum(unslice(d, 0, 2, 1, 3, 3, 4))",
    "eye": "x: 3; v: 3; L = dot(v, tanh(eye(3) @ x))",
    "conv1d_bias": "x: 2x5; w: 3x2x3; b: 3; R: 3x3; L = sum(conv1d(x, w, bias=b) * R)",
    "conv2d_bias": "x: 1x4x4; K: 2x1x3x3; b: 2; R: 2x2x2; L = sum(conv2d(x, K, bias=b, stride=2, padding=1) * R)",
}

#: Scalar ops of three arguments, called on x and y (and a constant).
CALLS = {"clip": "clip(x, y, 2)", "where": "where(x, x*y, y**2)", "dropout": "dropout(x, y, 0.25)"}


def scalar_program(name: str) -> str:
    op = ops.OPS[name]
    return OPERATORS.get(name) or CALLS.get(name) or f"{name}({'x, y' if op.arity != 1 else 'x'})"


def ops_used(d) -> set[str]:
    """The ops of the forward nodes, and of the tensor constants they read (ones(3) folds into its reader)."""
    graph, used = d.graph, set()
    for node in graph.nodes("forward"):
        used.add(graph[node]["op"])
        for operand in graph.operands(node):
            for part in sp.preorder_traversal(operand) if isinstance(operand, sp.Basic) else ():
                op = ops.op_of_function(part.func)
                if op is not None:
                    used.add(op.name)
    return used


def second_order_partials(op: Op) -> list[sp.Expr]:
    """The op's partials on fresh symbols, and the partials of every op inside them: the chain rule's factors at order 2."""
    operands = sp.symbols(f"u0:{op.arity if op.arity >= 0 else 3}")
    first = list(op.partials(operands, op.build(*operands)))
    second = []
    for partial in first:
        for sub in sp.preorder_traversal(partial):
            if not (sub.is_Symbol or sub.is_number):
                inner, args = registry.decompose(sub)
                second.extend(inner.partials(args, sub))
    return first + second


# --- every entry is covered ----------------------------------------------------------------------


def test_every_op_has_a_closure_program():
    assert set(TENSOR_PROGRAMS) == set(TENSOR_OPS)
    assert all(scalar_program(name) for name in SCALAR_OPS)


# --- scalar ops: to second order -------------------------------------------------------------------


@pytest.mark.parametrize("name", SCALAR_OPS)
def test_scalar_partials_to_second_order_are_registered_ops(name):
    for partial in second_order_partials(ops.OPS[name]):
        assert unregistered_head(partial) is None, f"{name}: {partial}"


@pytest.mark.parametrize("name", SCALAR_OPS)
def test_scalar_op_derives_to_second_order_and_passes_the_check(name):
    program = scalar_program(name)
    inputs = sorted(set(re.findall(r"\b[xy]\b", program)))
    d = derive(program, at={n: POINT[n] for n in inputs}, order=2)
    assert name in ops_used(d)
    for i, node in d.wrt.items():
        assert math.isfinite(d.value(d.gradients.of(node))), (program, i)
        for j, other in d.wrt.items():
            assert math.isfinite(d.value(d.second[i].of(other))), (program, i, j)
    report = d.check()
    assert report.status == "passed", (program, report.reasons)


# --- tensor ops: the gradient ---------------------------------------------------------------------


def differentiable(name: str) -> bool:
    """Forward-only ops (argmax, the gradient ops) have no rule; an op without operands is a constant."""
    op = ops.OPS[name]
    return op.vjp is not None or op.arity == 0


@pytest.mark.parametrize("name", [n for n in TENSOR_OPS if differentiable(n)])
def test_tensor_op_gradient_is_built_from_registered_ops_and_passes_the_check(name):
    d = derive(TENSOR_PROGRAMS[name])
    assert name in ops_used(d)
    for rule in d.gradients.vjp.values():
        assert unregistered_head(rule) is None, f"{name}: {rule}"
    report = d.check()  # at a seeded random point: the rules evaluate there and agree with finite differences
    assert report.status == "passed", report.reasons


@pytest.mark.parametrize("name", [n for n in TENSOR_OPS if not differentiable(n) and not ops.get(n).integer])
def test_an_op_without_a_rule_is_an_input_error_naming_it(name):
    with pytest.raises(InputError, match=f"^{name} is not differentiable"):
        derive(TENSOR_PROGRAMS[name])


@pytest.mark.parametrize("name", [n for n in TENSOR_OPS if ops.get(n).integer])
def test_an_integer_op_carries_no_gradient_and_says_so(name):
    d = derive(TENSOR_PROGRAMS[name])
    assert any(f"= {name}(" in note and "it is forward only" in note for note in d.notes)


# --- registration refuses an op whose derivative leaves the registry ------------------------------


class _loggamma(sp.Function):
    """log Γ(u): its derivative needs the digamma function (SymPy's polygamma), which has no op."""


class _tanh_gelu(sp.Function):
    """GELU's tanh approximation: its derivative stays in the registry."""


def _throwaway(name: str, head: type, partial) -> Op:
    return Op(name, 1, head, lambda a, y: (partial(a[0]),), np.tanh, name, name, f"{name} rule", head=head, is_function=True)


LOGGAMMA = _throwaway("loggamma", _loggamma, lambda u: sp.polygamma(0, u))
TANH_GELU = _throwaway("tanh_gelu", _tanh_gelu, lambda u: (1 + sp.tanh(u + u**3 / 20)) / 2)


@pytest.fixture
def scratch_registry(monkeypatch):
    """register() into copies of the registry's tables, restored after the test."""
    for table in ("OPS", "FUNCTIONS", "_BY_HEAD"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))
    return registry


def test_an_op_whose_derivative_needs_digamma_is_refused_and_not_left_registered():
    before = (dict(registry.OPS), dict(registry.FUNCTIONS), dict(registry._BY_HEAD))
    with pytest.raises(ValueError, match="'loggamma'.*SymPy's polygamma, which has no op"):
        register(LOGGAMMA)
    assert (registry.OPS, registry.FUNCTIONS, registry._BY_HEAD) == before


def test_an_op_whose_derivative_stays_in_the_registry_registers(scratch_registry):
    register(TANH_GELU)
    assert scratch_registry.OPS["tanh_gelu"] is TANH_GELU and scratch_registry.op_of_function(_tanh_gelu) is TANH_GELU
    assert "tanh_gelu" not in ops.OPS  # the real registry is untouched


def test_a_refused_call_registers_none_of_its_entries(scratch_registry):
    with pytest.raises(ValueError, match="polygamma"):
        register(TANH_GELU, LOGGAMMA)
    assert "tanh_gelu" not in scratch_registry.OPS and "tanh_gelu" not in scratch_registry.FUNCTIONS
    assert scratch_registry.op_of_function(_tanh_gelu) is None


def test_entries_of_one_call_may_use_each_other(scratch_registry):
    uses_later = _throwaway("uses_later", _loggamma, lambda u: _tanh_gelu(u))
    register(uses_later, TANH_GELU)
    assert {"uses_later", "tanh_gelu"} <= set(scratch_registry.OPS)


@pytest.mark.parametrize(
    "entry, message",
    [
        (Op("two", 1, sp.exp, lambda a, y: (y, y), np.exp, "two", "two", "rule"), "gives 2 partials for 1 operands"),
        (Op("none", 1, sp.exp, None, np.exp, "none", "none", "rule"), "neither local partials nor a shape rule"),
        (Op("maxed", 1, sp.exp, lambda a, y: (sp.Max(a[0], 0),), np.exp, "m", "m", "rule"), "SymPy's Max, which has no op"),
    ],
)
def test_malformed_partials_are_refused(scratch_registry, entry, message):
    with pytest.raises(ValueError, match=message):
        register(entry)
    assert entry.name not in scratch_registry.OPS


# --- README's list of functions -------------------------------------------------------------------

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _names(spans: list[str]) -> set[str]:
    """Function names in code spans: `exp log sqrt` lists names, `logsumexp(a, b, …)` calls one."""
    names: set[str] = set()
    for span in spans:
        names.update(re.findall(r"(\w+)\(", span) if "(" in span else span.split())
    return names


def test_readme_lists_exactly_the_scalar_functions():
    (row,) = re.findall(r"^\| functions \|(.*)\|$", README, flags=re.MULTILINE)
    scalar_functions = {name for name in ops.FUNCTIONS if not ops.get(name).is_tensor}  # aliases too (ln)
    assert _names(re.findall(r"`([^`]+)`", row)) == scalar_functions


#: Tensor ops the README writes in notation rather than by name.
NOTATION = {"matmul": "A @ B", "transpose": "X.T", "index": "p[1]"}


def test_readme_tensor_table_names_registered_functions_and_every_differentiable_one():
    section = README.split("## Tensor programs", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("| "))
    spans = re.findall(r"`([^`]+)`", table)
    called = {name for span in spans for name in re.findall(r"(\w+)\(", span)}
    assert called <= set(ops.FUNCTIONS)
    callable_rules = {n for n in TENSOR_OPS if ops.OPS[n].is_function and ops.OPS[n].vjp is not None}
    documented = called | {name for name, spelling in NOTATION.items() if spelling in spans}
    assert callable_rules <= documented


def test_the_functions_offered_to_users_are_documented_and_exclude_the_gradient_ops():
    """ops.user_functions(), what error messages list and suggest, is every callable name but the gradients' own ops
    (Op.internal: callable so that a derivative's source form parses back); README documents each offered one."""
    section = README.split("## Tensor programs", 1)[1].split("\n## ", 1)[0]
    (row,) = re.findall(r"^\| functions \|(.*)\|$", README, flags=re.MULTILINE)
    table = "\n".join(line for line in section.splitlines() if line.startswith("| "))
    documented = _names(re.findall(r"`([^`]+)`", row)) | {
        name for span in re.findall(r"`([^`]+)`", table) for name in re.findall(r"(\w+)\(", span)} | set(NOTATION)
    offered = set(ops.user_functions())
    internal = {name for name in ops.FUNCTIONS if ops.get(name).internal}
    assert offered <= documented
    assert offered | internal == set(ops.FUNCTIONS) and not offered & internal
    assert internal == {"sum_to", "unslice", "max_mask", "min_mask", "maxunpool2d", "upsample2d",
                        "conv1d_input_grad", "conv1d_kernel_grad", "conv2d_input_grad", "conv2d_kernel_grad"}
