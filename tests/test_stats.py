"""The expression-swell meter: exact counts on a small program, tree against DAG on a deep chain."""

from symgraph import derive
from symgraph.output.stats import STAGES, stats


def test_counts_on_a_small_program():
    # y = exp(x² + tanh(x)): inputs x; operations x², tanh, +, exp.
    d = derive("exp(x**2 + tanh(x))", at={"x": 0.5})
    d.check()
    s = stats(d)
    assert (s.forward_nodes, s.forward_edges, s.forward_ops) == (5, 5, 4)
    assert s.gradient_ops == sum(1 for _ in d.graph.nodes("gradient"))
    assert s.gradient_edges == sum(1 for u, v in d.graph.dag.edges if d.graph[v]["kind"] == "gradient")
    assert s.tree_size["x"] == d.tree_size("x")
    assert list(s.timings) == list(STAGES)
    assert s.as_dict()["forward"] == {"nodes": 5, "edges": 5, "operations": 4}
    text = s.text()
    assert text.splitlines()[1] == "  forward graph     5 nodes, 5 edges, 4 operations"
    assert "check" in text.splitlines()[-1]


def test_check_time_appears_only_after_the_check():
    s = stats(derive("sin(x)*x"))
    assert "check" not in s.timings and "backward" in s.timings


def test_deep_chain_tree_is_exponential_while_the_dag_stays_linear():
    # h_i = h² + h reads h twice, so written out every level doubles the tree below it.
    lines = ["h0 = tanh(x)"] + [f"h{i} = h{i - 1}**2 + h{i - 1}" for i in range(1, 60)]
    s = stats(derive("\n".join(lines)))
    assert s.forward_ops == 1 + 2 * 59
    assert s.gradient_dag < 10 * s.forward_nodes
    assert s.tree_size["x"] > 2**59
    assert "e" in s.text().splitlines()[4]  # printed as a power of ten
