"""The DAG: hash-consing, names, argument order, determinism."""

from __future__ import annotations

import sympy as sp

from symgraph.engine.graph import build
from symgraph.lang.parse import parse


def graph_of(text, of=None):
    return build(parse(text), of)


def test_shared_input_is_one_node_with_several_out_edges():
    graph, output = graph_of("a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b")
    x = graph.names["x"]
    assert graph.dag.out_degree(x) == 4  # 3x, σ(x), x², −x
    assert graph[output]["name"] == "y"


def test_equal_subexpressions_are_one_node():
    graph, _ = graph_of("a = tanh(x*y); b = tanh(x*y) + x*y; c = a*b")
    assert graph.names["a"] in [o for o in graph.operands(graph.names["b"])]
    ops_count = sum(1 for n in graph.nodes("forward") if graph[n]["op"] == "mul")
    assert ops_count == 2  # x*y once, a*b once


def test_repeated_operand_keeps_both_positions():
    graph, output = graph_of("y = x*x")
    x = graph.names["x"]
    assert graph.dag.edges[x, output]["positions"] == (0, 1)
    assert graph.expr(output) == sp.Symbol("x") ** 2


def test_constant_three_is_not_confused_with_node_three():
    graph, output = graph_of("a = x + 1; b = a + 1; c = b + 1; d = c*3; y = d*3 + d*c")
    c, d = graph.names["c"], graph.names["d"]
    assert c == 3 and graph.operands(d) == (3, 3) and [type(o) for o in graph.operands(d)] == [sp.Integer, int]
    products = [n for n in graph.nodes("forward") if graph[n]["op"] == "mul"]
    assert len(products) == 3  # c·3, d·3 and d·c are three different nodes
    assert graph.expr(d) == 3 * sp.Symbol("c")


def test_generated_names_do_not_clash_with_the_users():
    graph, output = graph_of("a = x**2; y = a + tanh(b) + sin(c)")
    names = [graph[n]["name"] for n in graph.nodes()]
    assert len(names) == len(set(names))
    assert {"a", "b", "c", "x", "y"} <= set(names)


def test_bare_expression_output_is_y_unless_taken():
    graph, output = graph_of("exp(x**2 + tanh(x))")
    assert graph[output]["name"] == "y"
    graph, output = graph_of("x*y + 1")
    assert graph[output]["name"] == "f"


def test_of_selects_an_assigned_name():
    graph, output = graph_of("a = x**2; b = a + 1", of="a")
    assert graph[output]["name"] == "a"


def test_ids_follow_creation_so_order_is_topological_and_stable():
    first, _ = graph_of("a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b")
    second, _ = graph_of("a = 3*x + sigmoid(x); b = x**2 - exp(-x); y = a*b")
    assert [(n, first[n]["name"], first[n]["op"]) for n in first.nodes()] == [
        (n, second[n]["name"], second[n]["op"]) for n in second.nodes()
    ]
    for u, v in first.dag.edges:
        assert u < v
