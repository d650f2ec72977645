"""Hostile and malformed inputs, by category. CANARY is replaced by a temporary file path in the tests:
if any input were ever executed, that file would appear."""

from __future__ import annotations

_INJECTION_CALLS = [
    "__import__('os').system('touch CANARY')",
    "__import__('subprocess').run(['touch', 'CANARY'])",
    "open('CANARY', 'w').write('x')",
    "open('CANARY', 'w')",
    "eval(\"open('CANARY', 'w')\")",
    "exec(\"open('CANARY', 'w')\")",
    "compile(\"open('CANARY', 'w')\", 'f', 'exec')",
    "(lambda: open('CANARY', 'w'))()",
    "[open('CANARY', 'w') for _ in 'a']",
    "{open('CANARY', 'w') for _ in 'a'}",
    "{k: open('CANARY', 'w') for k in 'a'}",
    "(open('CANARY', 'w') for _ in 'a')",
    "f\"{open('CANARY', 'w')}\"",
    "x.__class__",
    "x.__class__.__bases__[0].__subclasses__()",
    "().__class__.__base__.__subclasses__()",
    "x.__dict__",
    "exp.__globals__",
    "tanh.__call__(x)",
    "sigmoid.__module__",
    "Symbol('CANARY')",
    "Function('f')(x)",
    "sympify(\"open('CANARY', 'w')\")",
    "S(\"open('CANARY', 'w')\")",
    "S.One * x",
    "sympy.sympify('x')",
    "parse_expr(\"open('CANARY', 'w')\")",
    "getattr(x, 'real')",
    "setattr(x, 'a', 1)",
    "globals()",
    "locals()",
    "vars()",
    "dir()",
    "breakpoint()",
    "input()",
    "print(x)",
    "help(x)",
    "__builtins__",
    "__import__",
    "__name__",
    "_x + 1",
    "np.exp(x)",
    "numpy.exp(x)",
    "math.exp(x)",
    "os.system('touch CANARY')",
    "exp(x).subs(x, 1)",
    "exp(x)(x)",
    "x(1)",
    "(x)(1)",
    "tanh(x).func",
    "type(x)",
    "object()",
    "memoryview(b'x')",
    "bytes(10**9)",
    "'a' * 10**9",
    "[0] * 10**9",
    "range(10**12)",
    "exp(x, **{'evaluate': False})",
    "exp(*[x])",
    "exp(evaluate=False)",
]
_INJECTION_STATEMENTS = [
    "import os",
    "import os; os.system('touch CANARY')",
    "from os import system",
    "x; import os",
    "y = x\nimport os",
    "del x",
    "global x",
    "nonlocal x",
    "with open('CANARY', 'w') as f: pass",
    "def f(): pass",
    "async def f(): pass",
    "class A: pass",
    "try:\n  x\nexcept Exception:\n  pass",
    "for i in range(3): pass",
    "while True: pass",
    "if x: y = 1",
    "assert x",
    "raise ValueError",
    "return x",
    "yield x",
    "pass",
    "lambda: 1",
    "y := x",
    "(y := x)",
    "x += 1",
    "y: int = x",
    "@decorator\ndef f(): pass",
    "match x:\n  case 1: pass",
    "print('hi') if x else 0",
    "x if x else open('CANARY', 'w')",
]

INJECTION = _INJECTION_CALLS + _INJECTION_STATEMENTS

MALFORMED = [
    "", " ", "\t", "\n\n", ";", ";;", "(", ")", "((x)", "x))", "[x", "x +", "+", "* x", "x **", "x ** * 2",
    "x = ", "= x", "a = b = x", "a, b = x, y", "a[0] = x", "a.b = x", "1 = x", "x = 1; x = 2",
    "y = x; y = x", "y = y + 1", "a = b; b = a", "a = b + 1; b = 2", "tanh()", "tanh(x, x)", "exp()", "log(x, 2, 3)",
    "sqrt(x, y)", "relu()", "logsumexp()", "foo(x)", "Tanh(x)", "EXP(x)", "softmax(x)", "max()", "clip(x, 0)",
    "pow(x, 2)", "2x", "x y", "x,", "x, y", "x ^ 2", "x // 2", "x % 2", "x @ y", "~x", "not x", "x and y",
    "x or y", "x < y < z", "x == y == z", "x != y", "x is y", "x in y", "x << 1", "x & y", "x | y", "[x]", "{x}", "(x,)",
    "{'a': x}", "x[0]", "x[1:2]", "*x", "**x", "'str'", "b'bytes'", "None", "True", "False", "1j", "x + 1j",
    "1e999", "...", "x...", "x.", ".x", "x.5", "1__0", "0b2", "0o9", "x\\", "\\x", "#", "# comment only",
    "'''doc'''", "y = x # ok?\nz = (", "exp + 1", "x + tanh", "exp = x", "tanh = 1",
    "log", "step", "x = x", "a = x; a = a + 1", "a = x\n  b = a",
    "\x00", "x\x00", "x\x1b[31m", "x\r\ny = ", "\\n",
]

PATHOLOGICAL = [
    "10**10**10",
    "9**9**9**9",
    "x**(10**100)",
    "x**(-10**100)",
    "2**(2**(2**(2**(2**2))))",
    "x**2**2**2**2**2",
    "(x + 1)**100000",
    "exp(exp(exp(exp(3)))) * x",
    "x**exp(exp(exp(3)))",
    "exp(exp(exp(3)))**2 + x",
    "10.0**400 * x",
    "1" * 60 + " * x",
    "0." + "1" * 100 + " * x",
    "(" * 10_000 + "x" + ")" * 10_000,
    "tanh(" * 500 + "x" + ")" * 500,
    "-" * 100_000 + "x",
    "x" * 1_000_001,
    "x + " * 250_000 + "x",
    "+".join(["x"] * 100_000),
    "*".join(["x"] * 100_000),
    "; ".join(f"a{i} = x + {i}" for i in range(21_000)),
    "; ".join(["a0 = x"] + [f"a{i} = a{i - 1} * x" for i in range(1, 21_000)]),
    "\n" * 1_000_000 + "x",
    " " * 1_000_000 + "x",
]

ODD_CHARACTERS = [
    "x² + 1", "x³", "x − 1", "x – 1", "x × y", "x · y", "x ÷ y", "√x", "σ(x)", "ｘ + 1", "х + x", "ⅹ + 1",
    "x\u200b + 1", "\ufeffx", "x\u202e + 1", "tanh（x）", "x＋1", "𝑥 + 1", "x\u00a0+ 1", "e^x", "x′", "∂x",
    "∑x", "x⁻¹", "x₁ + 1", "½x", "∞", "x🙂",
]

CONSTANT_ERRORS = [
    "1/0", "x/0", "x/(1 - 1)", "0**-1", "(1 - 1)**-2", "log(0)", "log(0) * x", "log(-1) * x", "sqrt(-4) * x",
    "x + log(log(1))", "1/(2 - 2) + x", "x**0.5 + (-8)**0.5", "exp(x) / (pi - pi)", "logsumexp(x, 1/0)",
]

TENSORS = [
    "W: 3x2; h: 3; L = sum(W @ h)", "a: 2; b: 3; L = sum(a + b)", "a: 2; b: 3; L = dot(a, b)",
    "W: 3x2; L = W @ W", "x: 3; L = x[3]", "x: 3; L = x[-1]", "x: 3; L = x[1.5]", "x: 3; L = x[y]",
    "x: 3; L = x[::2]", "x: 3; L = x[1:]", "x: 3; L = x[2:1]", "x: 3; L = x[0, 0]", "L = x[0]", "L = x[1:2]",
    "x: 3; L = x.real", "x: 3; L = x.T.T.shape", "x: 3; L = sum(x, axis=1)", "x: 3; L = sum(x, axis=-1)",
    "x: 3; L = sum(x, axes=0)", "x: 3; L = sum(x, 0, 1)", "x: 3; L = sum(x, axis=x)", "x: 3; L = cross_entropy(x)",
    "x: 3; L = cross_entropy(x, 3)", "x: 3; L = cross_entropy(x, target=1.5)", "L = onehot(7, 3)[0] * x",
    "L = ones(0) * x", "L = sum(ones(10**7)) * x", "L = sum(ones(100000, 100000)) * x", "x: 3; L = reshape(x, 5)",
    "L = concat()", "x: 3; L = sum(stack(x, W))", "a: 2; b: 2x2; L = sum(concat(a, b))", "a: 2; b: 3; L = mse(a, b)",
    "x: 3x3x3x3x3; L = sum(x)", "x: 0; L = sum(x)",
    "x: 3x0; L = sum(x)", "x: 100000x100000; L = sum(x)", "x: 1000x1000x1000; L = sum(x)", "x: 3x; L = sum(x)",
    "x: x3; L = sum(x)", "x: 3 y 2; L = sum(x)", "x: 3x2 = 5", "x: 3; x: 3; L = sum(x)", "x: 3; x = 2; L = x",
    "y: 3; L = x", "x: -3; L = sum(x)", "x: 1.5; L = sum(x)", "x: foo; L = sum(x)", "x: (3, 2); L = sum(x)",
    "x.y: 3; L = x", "x[0]: 3; L = x", "W: 3x2; L = sum(W.T @ W.T)", "L = softmax(1)",
    "X: 2x3x4; L = sum(softmax(X))", "x: 3; L = sum(outer(x, x) @ x @ x @ x)", "x: 3; L = transpose(x, 1)",
    "x: 3; L = sum(ones(3, 2) + x)", "x: 3; L = flatten(x, 1)", "x: 3; L = sum(x[0:5])",
    "W: 1000x1000; L = sum(" + " @ ".join(["W"] * 12) + ")", "W: 1000x1000; L = sum((W @ W) @ (W @ W) @ (W @ W) @ W)",
]

#: Names that print alike in some printer (text, LaTeX, pictures): refused, as one quantity needs one spelling.
LOOK_ALIKE_NAMES = [
    "x1 + x_1", "lamda*x + λ", "Theta*x + Θ", "x__1 + x_1", "x_12 + x_1_2", "lam*x + λ", "theta1*x + θ1",
    "omicron*x + o", "Alpha*x + A", "alpha_beta*x + α_β", "x + x_", "h2 = x; y = h_2*x", "a = x__y; b = x_y*a",
]

#: Inputs that are legal though odd: they must be answered (exit 0) or refused (exit 2), never crash.
#: Answered since outputs of any kind are (an input, a constant, a tensor's forward pass), and max/concat take scalars.
LEGAL_ODDITIES = ["θ*x + λ", "(y) = x*2", "0**0 * x", "x**0", "x - x", "x/x", "abs(x)**0.5 * 0 + x", "(a) = x", "y = 3",
                  "y = pi", "a = 1; y = a", "W: 3x2; L = W", "x: 3; L = softmax(x)",
                  "x: 3; L = argmax(x)", "x: 3; L = argmax(x) * sum(x)", "max(x, 0)", "min(x, y)",
                  "x: 3; L = sum(concat(x, W))", "pi = 3", "E = 2"]

CATEGORIES = {
    "injection": INJECTION,
    "malformed": MALFORMED,
    "pathological": PATHOLOGICAL,
    "odd characters": ODD_CHARACTERS,
    "constant errors": CONSTANT_ERRORS,
    "tensors": TENSORS,
    "look-alike names": LOOK_ALIKE_NAMES,
}

#: Values at the edges of floating point (issue 19 §3): (program, --at) whose derivation must end in exit 0
#: with finite numbers, or in one `error:` line that says overflow or undefined and names no internal node.
EDGE_VALUES = [("sqrt(relu(x))", "x=-1"), ("sqrt(x)", "x=0"), ("sigmoid(x)", "x=40"), ("tanh(x)", "x=20"),
               ("x**2", "x=1e308"), ("1/x", "x=1e-310"), ("exp(x)", "x=709"), ("exp(x)", "x=710"), ("exp(2*x)", "x=354.8"),
               ("exp(x)*x", "x=709"), ("cosh(x) + exp(x) - exp(x)", "x=709.7"), ("sqrt(relu(x)) + x**2", "x=-1"),
               ("sqrt(x)**3", "x=0"), ("x: 2; L = sum(x**2)", "x=[1e308, 1]"), ("log(relu(x))", "x=-1")]
