"""Layer builders: a network written as a symgraph program, one named line at a time, for notebooks.

A `Network` produces program text in the symgraph language (so students see, and can paste,
exactly what is differentiated), the declarations of its inputs and parameters, and which
names belong to which named sub-graph, a *cluster*, that the pictures draw as a labelled box:

    >>> net = Network()
    >>> x = net.input("x", 3)
    >>> h = net.dense("layer1", x, 4, activation="relu")        # W1: 4x3, b1: 4; z1 = W1 @ x + b1; h1 = relu(z1)
    >>> z = net.dense("layer2", h, 2, activation=None)
    >>> L = net.cross_entropy("loss", z, target=1)
    >>> d = net.derive()                                      # seeded random values for every input
    >>> d.check().status
    'passed'

Conventions (the textbook's, where they differ the docstring says so):
- a vector is a column: dense on x ∈ ℝᵈ is z = W x + b with W: units×d;
- sequences for attention are rows: X is T×d, one token a row, Q = X W_Q;
- names: a layer named with a number ('layer1', 't3') numbers its names (W1, z1, h1); otherwise they are
  plain (W, z, h). A taken name is an error that says how to rename; every builder takes `names={...}`;
- shared weights are one node: an unrolled RNN's W_hh is read by every step, and LSTM/GRU cells built one
  after another reuse W_f, U_f, b_f … (`parameter(..., share=True)`); a second, separate cell layer needs names=;
- the causal mask is a constant 0/1 matrix M (1 on and below the diagonal), given as a value and never
  differentiated, in the masked softmax U = exp(S) ⊙ M, P = U / (row sums of U): exactly 0 on the future,
  every op differentiable and no huge numbers, so the finite-difference check stays conclusive.
  Network(mask="additive") writes the textbook softmax(S + M) with M = −10⁹ above the diagonal instead (also
  exactly 0 there), but the check's rounding-noise estimate scales with the largest value in the graph (10⁹),
  so its verdict there is 'inconclusive';
- multi-head attention's concat(A₁, …, A_h) W_O is written A₁ W_O1 + … + A_h W_Oh with the row blocks
  W_Oi of W_O: the same numbers, and each head's share of the gradient shows (symgraph's concat joins vectors);
- bias of a layer whose output is a matrix: outer(ones(n), b) puts b on every row (symgraph broadcasts
  scalars only); a convolution's bias b ∈ ℝᴼ is spread over each output channel the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from symgraph import ops
from symgraph.errors import InputError, ShapeError
from symgraph.lang.hints import did_you_mean
from symgraph.teach.network import NetworkProgram, Shape, Var, layer_tag, shape_text

__all__ = ["Network", "Var", "MASK_VALUE"]

#: What the causal mask adds to a score of the future: exp(−10⁹ + s) is 0 in floating point.
MASK_VALUE = -1e9


class Network(NetworkProgram):
    """A network as a symgraph program: builders append named lines, each in a cluster; `derive()` runs it."""

    def __init__(self, seed: int = 0, decimals: int | None = 2, mask: str = "multiplicative"):
        super().__init__(seed, decimals)
        if mask not in ("multiplicative", "additive"):
            raise InputError(f"mask={mask!r}: use 'multiplicative' (masked softmax) or 'additive' (softmax(S + M))")
        #: How attention's causal mask is written (see the module docstring).
        self.mask = mask

    # --- layers ---------------------------------------------------------------------------------------------
    def dense(self, name: str, x: Var | str, units: int, activation: str | None = "relu", *, bias: bool = True,
              names: Mapping[str, str] | None = None) -> Var:
        """z = W x + b, h = activation(z); for a matrix X (one example a row), Z = X Wᵀ + outer(ones(n), b)."""
        x, n, t = self._var(x), _names(names), layer_tag(name)
        if len(x.shape) not in (1, 2):
            raise ShapeError(f"dense {name}: x has shape {shape_text(x.shape)}; flatten it first (net.flatten)")
        W = self.parameter(n.get("W", f"W{t}"), units, x.shape[-1], cluster=name)
        shape: Shape
        if len(x.shape) == 1:
            shape, expression = (units,), f"{W} @ {x}"
            if bias:
                expression += f" + {self.parameter(n.get('b', f'b{t}'), units, init='bias', cluster=name)}"
        else:
            shape, expression = (x.shape[0], units), f"{x} @ {W}.T"
            if bias:
                b = self.parameter(n.get("b", f"b{t}"), units, init="bias", cluster=name)
                expression += f" + outer(ones({x.shape[0]}), {b})"
        if activation is None:
            return self._assign(n.get("out", n.get("z", f"z{t}")), expression, shape, name)
        z = self._assign(n.get("z", f"z{t}"), expression, shape, name)
        return self._assign(n.get("out", f"h{t}"), f"{_activation(activation)}({z})", shape, name)

    def rnn(self, name: str, xs: Sequence[Var | str] | Var | str, hidden: int, activation: str | None = "tanh",
            h0: Var | str | None = None, *, names: Mapping[str, str] | None = None) -> list[Var]:
        """Unrolled over T steps: a_t = W_hh h_{t−1} + W_hx x_t + b_h, h_t = activation(a_t), one cluster per step
        ('rnn t=1' …). The weights are shared: one node each, outside the steps, read by every step. Without h0
        the first step has no W_hh term (h₀ = 0). `xs` is a list of vectors or a T×d matrix (x_t is its row).
        activation=None is the linear RNN h_t = W_hh h_{t−1} + W_hx x_t + b_h, as dense's None."""
        n, t0 = _names(names), layer_tag(name)
        steps = self._steps(xs)
        d = steps[0][1][0]
        W_hh = self.parameter(n.get("W_hh", f"W_hh{t0}"), hidden, hidden, share=True)
        W_hx = self.parameter(n.get("W_hx", f"W_hx{t0}"), hidden, d, share=True)
        b = self.parameter(n.get("b", f"b_h{t0}"), hidden, init="bias", share=True)
        h = None if h0 is None else self._var(h0)
        if h is not None and h.shape != (hidden,):
            raise ShapeError(f"rnn {name}: h0 has shape {shape_text(h.shape)}, the hidden size is {hidden}")
        states = []
        for t, (x_text, shape) in enumerate(steps, 1):
            if shape != (d,):
                raise ShapeError(f"rnn {name}: x at step {t} has shape {shape_text(shape)}, step 1 had {d}")
            cluster = f"{name} t={t}"
            if self.kinds.get(x_text) == "input" and not any(x_text in names for names in self.clusters.values()):
                self.clusters.setdefault(cluster, []).append(x_text)  # x_t is drawn inside its step
            recurrent = f"{W_hh} @ {h} + " if h is not None else ""
            affine = f"{recurrent}{W_hx} @ {x_text} + {b}"
            if activation is not None:
                a = self._assign(f"{n.get('a', 'a')}{t}", affine, (hidden,), cluster)
                affine = f"{_activation(activation)}({a})"
            h = self._assign(f"{n.get('h', 'h')}{t}", affine, (hidden,), cluster)
            states.append(h)
        return states

    def _steps(self, xs) -> list[tuple[str, Shape]]:
        if isinstance(xs, (Var, str)):
            X = self._var(xs)
            if len(X.shape) != 2:
                raise ShapeError(f"rnn: a sequence is a list of vectors or a T×d matrix, not shape {shape_text(X.shape)}")
            return [(f"{X}[{t}]", X.shape[1:]) for t in range(X.shape[0])]
        if not xs:
            raise InputError("rnn: the sequence is empty")
        return [(v.name, v.shape) for v in map(self._var, xs)]

    def lstm_cell(self, name: str, x: Var | str, h: Var | str, c: Var | str, *,
                  names: Mapping[str, str] | None = None) -> tuple[Var, Var]:
        """The LSTM cell: f, i, o = σ(W x + U h + b) per gate, g = tanh(W_g x + U_g h + b_g), c′ = f ⊙ c + i ⊙ g,
        h′ = o ⊙ tanh(c′). Returns (h′, c′). 4·(h(d+h)+h) parameters, one bias per gate (PyTorch stores two)."""
        x, h, c, n, t = self._var(x), self._var(h), self._var(c), _names(names), layer_tag(name)
        size = h.shape[0]
        if len(x.shape) != 1 or len(h.shape) != 1 or c.shape != h.shape:
            raise ShapeError(f"lstm_cell {name}: x, h, c must be vectors with c like h; got {x.shape}, {h.shape}, {c.shape}")
        gates = {}
        for gate, function in (("f", "sigmoid"), ("i", "sigmoid"), ("o", "sigmoid"), ("g", "tanh")):
            gates[gate] = self._gate(name, n, gate, function, x, h, size, t)
        c_new = self._assign(n.get("c", f"c{t}" if t else "c_next"), f"{gates['f']} * {c} + {gates['i']} * {gates['g']}", (size,), name)
        h_new = self._assign(n.get("h", f"h{t}" if t else "h_next"), f"{gates['o']} * tanh({c_new})", (size,), name)
        return h_new, c_new

    def _gate(self, cluster, n, gate, function, x: Var, h: Var, size: int, t: str, hidden_input: str | None = None) -> Var:
        """gate = function(W_gate x + U_gate h + b_gate); parameters without the step number, so cells share them."""
        W = self.parameter(n.get(f"W_{gate}", f"W_{gate}"), size, x.shape[0], cluster=cluster, share=True)
        U = self.parameter(n.get(f"U_{gate}", f"U_{gate}"), size, h.shape[0], cluster=cluster, share=True)
        b = self.parameter(n.get(f"b_{gate}", f"b_{gate}"), size, init="bias", cluster=cluster, share=True)
        expression = f"{function}({W} @ {x} + {U} @ {hidden_input or h} + {b})"
        return self._assign(n.get(gate, f"{gate}{t}"), expression, (size,), cluster)

    def gru_cell(self, name: str, x: Var | str, h: Var | str, *, names: Mapping[str, str] | None = None) -> Var:
        """The GRU cell (Cho et al. 2014): z = σ(W_z x + U_z h + b_z) (update), r = σ(W_r x + U_r h + b_r) (reset),
        n = tanh(W_n x + U_n (r ⊙ h) + b_n), h′ = (1 − z) ⊙ n + z ⊙ h. PyTorch puts r outside: r ⊙ (U_n h + b)."""
        x, h, n, t = self._var(x), self._var(h), _names(names), layer_tag(name)
        size = h.shape[0]
        if len(x.shape) != 1 or len(h.shape) != 1:
            raise ShapeError(f"gru_cell {name}: x and h must be vectors; got {shape_text(x.shape)} and {shape_text(h.shape)}")
        z = self._gate(name, n, "z", "sigmoid", x, h, size, t)
        r = self._gate(name, n, "r", "sigmoid", x, h, size, t)
        candidate = self._gate(name, n, "n", "tanh", x, h, size, t, hidden_input=f"({r} * {h})")
        return self._assign(n.get("h", f"h{t}" if t else "h_next"), f"(1 - {z}) * {candidate} + {z} * {h}", (size,), name)

    def attention(self, name: str, X: Var | str, d_k: int, d_v: int | None = None, *, memory: Var | str | None = None,
                  causal: bool = False, names: Mapping[str, str] | None = None) -> Var:
        """Scaled dot-product attention over the rows of X (T×d): Q = X W_Q, K = M W_K, V = M W_V with M = memory
        or X, S = Q Kᵀ/√d_k, P = softmax(S) row by row (causal: the masked softmax, see the module docstring),
        A = P V (T×d_v)."""
        X, n, t = self._var(X), _names(names), layer_tag(name)
        source = X if memory is None else self._var(memory)
        d_v = d_v or d_k
        for v in (X, source):
            if len(v.shape) != 2:
                raise ShapeError(f"attention {name}: {v} has shape {shape_text(v.shape)}; tokens are the rows of a T×d matrix")
        T, S_len = X.shape[0], source.shape[0]
        WQ = self.parameter(n.get("W_Q", f"W_Q{t}"), X.shape[1], d_k, cluster=name)
        WK = self.parameter(n.get("W_K", f"W_K{t}"), source.shape[1], d_k, cluster=name)
        WV = self.parameter(n.get("W_V", f"W_V{t}"), source.shape[1], d_v, cluster=name)
        Q = self._assign(n.get("Q", f"Q{t}"), f"{X} @ {WQ}", (T, d_k), name)
        K = self._assign(n.get("K", f"K{t}"), f"{source} @ {WK}", (S_len, d_k), name)
        V = self._assign(n.get("V", f"V{t}"), f"{source} @ {WV}", (S_len, d_v), name)
        root = math.isqrt(d_k)
        scores = f"{Q} @ {K}.T / " + (str(root) if root * root == d_k else f"sqrt({d_k})")
        mask = None
        if causal:
            if T != S_len:
                raise ShapeError(f"attention {name}: a causal mask needs as many queries as keys ({T} and {S_len})")
            mask = n.get("M", f"M{layer_tag(name)}")
            if mask not in self.shapes:
                future = np.triu(np.ones((T, T)), 1)
                self.constant(mask, future * MASK_VALUE if self.mask == "additive" else 1.0 - future, cluster=name)
        if mask is not None and self.mask == "additive":
            scores += f" + {mask}"
        S = self._assign(n.get("S", f"S{t}"), scores, (T, S_len), name)
        if mask is not None and self.mask == "multiplicative":
            # the masked softmax p_ij = m_ij exp(s_ij) / Σ_k m_ik exp(s_ik), with m = 1 on and below the diagonal
            U = self._assign(n.get("U", f"U{t}"), f"exp({S}) * {mask}", (T, S_len), name)
            P = self._assign(n.get("P", f"P{t}"), f"{U} / outer(sum({U}, axis=1), ones({S_len}))", (T, S_len), name)
        else:
            P = self._assign(n.get("P", f"P{t}"), f"softmax({S})", (T, S_len), name)
        return self._assign(n.get("A", f"A{t}"), f"{P} @ {V}", (T, d_v), name)

    def multi_head_attention(self, name: str, X: Var | str, heads: int, d_k: int, d_v: int | None = None,
                             d_model: int | None = None, *, causal: bool = False, memory: Var | str | None = None,
                             names: Mapping[str, str] | None = None) -> Var:
        """h heads, each attention with its own W_Qi, W_Ki, W_Vi in cluster 'name head i', then
        Z = A₁ W_O1 + … + A_h W_Oh (= concat(A₁, …, A_h) W_O) in cluster 'name'."""
        X, n, t = self._var(X), _names(names), layer_tag(name)
        d_v, d_model = d_v or d_k, d_model or self.shapes[X.name][1]
        outputs = []
        for i in range(1, heads + 1):  # head i's names end in i (Q1, W_Q1); names={"Q": "Qa", …} renames the bases
            head = {key: f"{n.get(key, key)}{i}" for key in ("W_Q", "W_K", "W_V", "Q", "K", "V", "S", "U", "P", "A")}
            head["M"] = n.get("M", f"M{t}")
            cluster = f"{name} head {i}"
            A = self.attention(cluster, X, d_k, d_v, memory=memory, causal=causal, names=head)
            W_O = self.parameter(f"{n.get('W_O', 'W_O')}{i}", d_v, d_model, cluster=name)
            outputs.append(f"{A} @ {W_O}")
        return self._assign(n.get("Z", f"Z{t}"), " + ".join(outputs), (X.shape[0], d_model), name)

    def conv1d(self, name: str, x: Var | str, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
               activation: str | None = None, *, bias: bool = True, names: Mapping[str, str] | None = None) -> Var:
        """conv1d(x, K, stride, padding) (cross-correlation, PyTorch layout): x (C, L) with K (O, C, k), or x (L,)
        with K (k,) when out_channels is 1; plus the bias, then the activation."""
        x = self._var(x)
        kernel: Shape
        spatial: Shape
        if len(x.shape) == 1:
            _need(out_channels == 1, f"conv1d {name}: an input without channels ({shape_text(x.shape)}) gives one output channel")
            kernel, spatial, channels = (kernel_size,), x.shape, None
        else:
            _need(len(x.shape) == 2, f"conv1d {name}: x is (C, L) or (L,), not {shape_text(x.shape)}")
            kernel, spatial, channels = (out_channels, x.shape[0], kernel_size), x.shape[1:], out_channels
        return self._conv("conv1d", name, x, kernel, spatial, channels, stride, padding, activation, bias, names)

    def conv2d(self, name: str, x: Var | str, out_channels: int, kernel_size: int | tuple[int, int], stride: int = 1,
               padding: int = 0, activation: str | None = None, *, bias: bool = True,
               names: Mapping[str, str] | None = None) -> Var:
        """conv2d(x, K, stride, padding) (cross-correlation, PyTorch layout): x (C, H, W) with K (O, C, kh, kw), or
        x (H, W) with K (kh, kw) when out_channels is 1; plus the bias, then the activation."""
        x = self._var(x)
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        kernel: Shape
        spatial: Shape
        if len(x.shape) == 2:
            _need(out_channels == 1, f"conv2d {name}: an input without channels ({shape_text(x.shape)}) gives one output channel")
            kernel, spatial, channels = (kh, kw), x.shape, None
        else:
            _need(len(x.shape) == 3, f"conv2d {name}: x is (C, H, W) or (H, W), not {shape_text(x.shape)}")
            kernel, spatial, channels = (out_channels, x.shape[0], kh, kw), x.shape[1:], out_channels
        return self._conv("conv2d", name, x, kernel, spatial, channels, stride, padding, activation, bias, names)

    def _conv(self, op, name, x, kernel, spatial, channels, stride, padding, activation, bias, names) -> Var:
        n, t = _names(names), layer_tag(name)
        sizes = kernel[-len(spatial):]
        out = tuple(_window(name, s + 2 * padding, k, stride) for s, k in zip(spatial, sizes))
        K = self.parameter(n.get("K", f"K{t}"), *kernel, cluster=name)
        shape = out if channels is None else (channels, *out)
        expression = f"{op}({x}, {K}, stride={stride}, padding={padding})"
        if bias and channels is None:
            expression += f" + {self.parameter(n.get('b', f'b{t}'), init='bias', cluster=name)}"
        elif bias:
            b = self.parameter(n.get("b", f"b{t}"), channels, init="bias", cluster=name)
            spread = f"outer({b}, ones({math.prod(out)}))"
            expression += f" + {spread}" if len(out) == 1 else f" + reshape({spread}, {', '.join(map(str, shape))})"
        if activation is None:
            return self._assign(n.get("out", n.get("z", f"z{t}")), expression, shape, name)
        z = self._assign(n.get("z", f"z{t}"), expression, shape, name)
        return self._assign(n.get("out", f"h{t}"), f"{_activation(activation)}({z})", shape, name)

    def maxpool2d(self, name: str, x: Var | str, kernel_size: int, stride: int | None = None, *,
                  names: Mapping[str, str] | None = None) -> Var:
        """maxpool2d over each channel's (H, W) windows; stride defaults to the window size (PyTorch)."""
        return self._pool("maxpool2d", name, x, kernel_size, stride, names)

    def avgpool2d(self, name: str, x: Var | str, kernel_size: int, stride: int | None = None, *,
                  names: Mapping[str, str] | None = None) -> Var:
        """avgpool2d over each channel's (H, W) windows; stride defaults to the window size (PyTorch)."""
        return self._pool("avgpool2d", name, x, kernel_size, stride, names)

    def _pool(self, op, name, x, size, stride, names) -> Var:
        x, n, t = self._var(x), _names(names), layer_tag(name)
        stride = stride or size
        _need(len(x.shape) in (2, 3), f"{op} {name}: x is (C, H, W) or (H, W), not {shape_text(x.shape)}")
        out = x.shape[:-2] + tuple(_window(name, s, size, stride) for s in x.shape[-2:])
        return self._assign(n.get("out", f"m{t}"), f"{op}({x}, {_pool_parameters(op, size, stride)})", out, name)

    def flatten(self, name: str, x: Var | str, *, names: Mapping[str, str] | None = None) -> Var:
        x, n, t = self._var(x), _names(names), layer_tag(name)
        return self._assign(n.get("out", f"f{t}"), f"flatten({x})", (math.prod(x.shape),), name)

    def residual(self, name: str, x: Var | str, fx: Var | str | Callable[[Var], Var], activation: str | None = None, *,
                 names: Mapping[str, str] | None = None) -> Var:
        """y = x + F(x) (then the activation): the skip connection gives ∂L/∂x the extra term ∂L/∂y.
        `fx` is a value or a function that builds F from x (its layers keep their own clusters)."""
        x, n, t = self._var(x), _names(names), layer_tag(name)
        f = self._var(fx(x) if callable(fx) else fx)
        if f.shape != x.shape:
            raise ShapeError(f"residual {name}: x is {shape_text(x.shape)} but F(x) is {shape_text(f.shape)}")
        expression = f"{x} + {f}" if activation is None else f"{_activation(activation)}({x} + {f})"
        return self._assign(n.get("out", f"r{t}"), expression, x.shape, name)

    # --- losses -----------------------------------------------------------------------------------------------
    def cross_entropy(self, name: str, logits: Var | str, target: int, *, explicit: bool = False,
                      names: Mapping[str, str] | None = None) -> Var:
        """Softmax–cross-entropy with class `target` (0-based): L = cross_entropy(z, target=k), whose rule is
        ∂L/∂z = p − e_k; explicit=True writes p = softmax(z), L = −log(p[k]) instead, one op at a time."""
        z, n, t = self._var(logits), _names(names), layer_tag(name)
        _need(len(z.shape) == 1, f"cross_entropy {name}: the logits are a vector, not {shape_text(z.shape)}")
        _need(0 <= int(target) < z.shape[0], f"cross_entropy {name}: class {target} of {z.shape[0]} (0-based)")
        if explicit:
            p = self._assign(n.get("p", f"p{t}"), f"softmax({z})", z.shape, name)
            return self._assign(n.get("L", f"L{t}"), f"-log({p}[{int(target)}])", (), name)
        return self._assign(n.get("L", f"L{t}"), f"cross_entropy({z}, target={int(target)})", (), name)

    def mse(self, name: str, prediction: Var | str, target: Var | str | Any, *,
            names: Mapping[str, str] | None = None) -> Var:
        """L = mse(ŷ, y) = mean((ŷ − y)²); a target given as numbers becomes a constant input."""
        y, n, t = self._var(prediction), _names(names), layer_tag(name)
        if isinstance(target, (Var, str)):
            goal = self._var(target)
        else:
            goal = self.constant(n.get("target", f"y_true{t}"), target, cluster=name)
        _need(goal.shape == y.shape, f"mse {name}: prediction {shape_text(y.shape)} and target {shape_text(goal.shape)} differ")
        return self._assign(n.get("L", f"L{t}"), f"mse({y}, {goal})", (), name)

    def l2(self, name: str, parameters: Iterable[Var | str] | None = None, lam: float = 0.01, *,
           names: Mapping[str, str] | None = None) -> Var:
        """R = λ/2 ‖θ‖² = lam/2 * (sum(W1*W1) + …); by default over the weights (parameters of 2 axes or more)."""
        n, t = _names(names), layer_tag(name)
        chosen = [self._var(p) for p in parameters] if parameters is not None else [
            Var(p, s) for p, s in self.parameters.items() if self._init.get(p) == "weight" and len(s) >= 2
        ]
        _need(bool(chosen), f"l2 {name}: no parameters to penalise")
        lam_var = self.constant(n.get("lam", f"lam{t}"), lam, cluster=name)
        squares = " + ".join(f"sum({p}*{p})" for p in chosen)
        return self._assign(n.get("R", f"R{t}"), f"{lam_var}/2 * ({squares})" if len(chosen) > 1 else f"{lam_var}/2 * {squares}", (), name)

    def add(self, name: str, *terms: Var | str, out: str | None = None) -> Var:
        """The sum of scalar (or equal-shaped) terms, e.g. J = L + R."""
        vs = [self._var(v) for v in terms]
        _need(len({v.shape for v in vs}) == 1, f"add {name}: shapes {', '.join(shape_text(v.shape) for v in vs)} differ")
        return self._assign(out or f"J{layer_tag(name)}", " + ".join(v.name for v in vs), vs[0].shape, name)


# --- helpers ------------------------------------------------------------------------------------------------


def _names(names: Mapping[str, str] | None) -> dict[str, str]:
    return dict(names or {})


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise ShapeError(message)


def _window(name: str, size: int, kernel: int, stride: int) -> int:
    """Output length of a window sliding over `size` (padding included): ⌊(size − k)/s⌋ + 1."""
    if kernel > size or stride < 1:
        raise ShapeError(f"{name}: a window of {kernel} with stride {stride} does not fit in {size}")
    return (size - kernel) // stride + 1


def _elementwise(op: ops.Op) -> bool:
    """A scalar function of one argument, or of one and defaults (leaky_relu's slope)."""
    return not op.is_tensor and op.arity - len(op.defaults) == 1


def _activation(name: str) -> str:
    """An elementwise function of the registry (relu, tanh, sigmoid …) or softmax / log_softmax."""
    if name in ("softmax", "log_softmax"):
        return name
    if name not in ops.FUNCTIONS or not _elementwise(ops.get(name)):
        known = [f for f in ops.user_functions() if _elementwise(ops.get(f))] + ["softmax", "log_softmax"]
        guess = did_you_mean(str(name), known)
        raise InputError(f"activation {name!r}: {guess or 'use one of ' + ', '.join(known) + ', or None for none'}")
    return name


def _pool_parameters(op: str, size: int, stride: int) -> str:
    """The window and stride as the registry's entry names them (kernel_size=2, stride=2); positional until
    the entry exists."""
    entry = ops.OPS.get(op)
    keywords = [k for k, _ in entry.keywords] if entry is not None else []
    if len(keywords) >= 2:
        return f"{keywords[0]}={size}, {keywords[1]}={stride}"
    return f"{size}, {stride}"
