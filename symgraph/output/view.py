"""What the output layer reads of a derivation: a protocol, so formats and pictures sit below it.

symgraph.derivation.Derivation implements it and calls the formats and renderers with itself;
they never import it. Anything a format or a picture needs from a derivation is listed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import sympy as sp

from symgraph.engine.backward import Gradients, Seed
from symgraph.engine.evaluate import Conventions
from symgraph.engine.graph import Graph, Operand
from symgraph.explain.steps import Step, Writer
from symgraph.lang.program import Program
from symgraph.verify.check import CheckReport

__all__ = ["DerivationView"]


class DerivationView(Protocol):
    """A program with its graph, gradients, explanation and numbers, as `derive` returns it."""

    program: Program
    graph: Graph
    output: Operand
    inputs: dict[str, int]
    wrt: dict[str, int]
    at: dict[str, float | np.ndarray]
    order: int
    conventions: Conventions
    gradients: Gradients
    second: dict[str, Gradients]
    values: dict[int, np.ndarray] | None
    timings: dict[str, float]
    writer: Writer
    #: Labelled sub-graphs to frame in pictures (symgraph.teach.network sets them), or None.
    clusters: Mapping[str, Sequence[str]] | None
    #: forward, gradient, jacobian or upstream (see symgraph.derivation.Derivation).
    mode: str
    seed: Seed | None
    #: (learning rate, weight decay) of a gradient-descent step, or None.
    update: tuple[float, float] | None

    @property
    def complete(self) -> bool: ...

    @property
    def notes(self) -> list[str]: ...

    @property
    def step(self) -> dict[str, float | np.ndarray] | None: ...

    @property
    def checked(self) -> bool: ...

    @property
    def jacobian(self) -> dict[str, np.ndarray] | None: ...

    @property
    def is_tensor(self) -> bool: ...

    @property
    def output_name(self) -> str: ...

    @property
    def total(self) -> bool: ...

    @property
    def gradient(self) -> dict[str, sp.Expr | None]: ...

    @property
    def in_terms_of_intermediates(self) -> dict[str, sp.Expr | None]: ...

    @property
    def textbook(self) -> dict[str, sp.Expr | None]: ...

    @property
    def hessian(self) -> dict[str, dict[str, sp.Expr | None]] | None: ...

    @property
    def steps(self) -> list[Step]: ...

    def value(self, operand: Operand) -> float | np.ndarray | None: ...

    def gradient_value(self, name: str) -> float | np.ndarray | None: ...

    def tree_size(self, name: str) -> int: ...

    def path_counts(self) -> dict[str, int]: ...

    def check(self) -> CheckReport: ...
