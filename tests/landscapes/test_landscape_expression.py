"""The safe expression parser: valid expressions against hand-computed values and gradients,
hostile or broken input rejected with a clear message and position, and random text never
raising anything but `ExpressionError`."""

import builtins
import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from landscapes import ExpressionError, expression_landscape, get_landscape, parse_expression
from landscapes.expression import FUNCTIONS, MAX_DEPTH, MAX_LENGTH

F64 = torch.float64
LN10, LN2 = math.log(10), math.log(2)

# (expression, point, value, gradient), all worked out by hand.
VALID = [
    ("x + y", (1, 2), 3, (1, 1)),
    ("x*y", (2, 3), 6, (3, 2)),
    ("x^2 + y**2", (1, -2), 5, (2, -4)),
    ("-x**2", (3, 0), -9, (-6, 0)),  # power binds tighter than unary minus
    ("-x^2 + (-x)^2", (3, 0), 0, (0, 0)),
    ("2^3^2*x", (1, 0), 512, (512, 0)),  # right-associative: 2^(3^2)
    ("x - y - 1", (5, 2), 2, (1, -1)),  # left-associative
    ("x / y / 2", (8, 2), 2, (0.25, -1)),
    ("x**-1", (2, 0), 0.5, (-0.25, 0)),
    ("1.5e-1*x + .5*y + 2.*x", (2, 4), 6.3, (2.15, 0.5)),
    ("pi*x + e*y", (1, 1), math.pi + math.e, (math.pi, math.e)),
    ("sin(x)*y**2 + 0.1*(x**2+y**2)", (0, 1), 0.1, (1, 0.2)),
    ("exp(x) + log(y) + ln(y)", (0, 1), 1, (1, 2)),
    ("log10(x) + log2(y)", (10, 8), 4, (1 / (10 * LN10), 1 / (8 * LN2))),
    ("sqrt(x^2 + y^2)", (3, 4), 5, (0.6, 0.8)),
    ("hypot(x, y)", (3, 4), 5, (0.6, 0.8)),
    ("atan2(y, x)", (1, 1), math.pi / 4, (-0.5, 0.5)),
    ("arctan(x) + asin(y)", (1, 0), math.pi / 4, (0.5, 1)),
    ("min(x, y) + max(x, 2*y)", (1, 3), 7, (1, 2)),
    ("abs(x - y)", (1, 3), 2, (-1, 1)),
    ("tanh(x) + cosh(y) + sinh(x)", (0, 0), 1, (2, 0)),
    ("cos(pi*x) * tan(y)", (1, 0), 0, (0, -1)),
    ("(x - 1)^2 + 100*(y - x^2)^2", (-2, 2), 409, (-1606, -400)),
    ("  x \t+\n y ", (1, 2), 3, (1, 1)),
    ("+x - -y", (1, 2), 3, (1, 1)),
    ("y", (1, 2), 2, (0, 1)),
    ("2 ^ 16 * x ^ 16", (1, 0), 65536, (16 * 65536, 0)),
]


@pytest.mark.parametrize(("text", "point", "value", "gradient"), VALID, ids=[v[0] for v in VALID])
def test_valid_expressions_give_hand_computed_values_and_gradients(text, point, value, gradient):
    expression = parse_expression(text)
    xy = torch.tensor(point, dtype=F64, requires_grad=True)
    result = expression(xy)
    result.backward()
    assert result.item() == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert xy.grad.tolist() == pytest.approx(gradient, rel=1e-12, abs=1e-12)


def test_largest_allowed_expression_compiles_and_differentiates():
    text = "+".join(["x*y"] * 64)  # 64 * 3 + 63 = 255 parts, a left-deep tree
    xy = torch.tensor([2.0, 3.0], dtype=F64, requires_grad=True)
    value = parse_expression(text)(xy)
    value.backward()
    assert value.item() == 64 * 6
    assert xy.grad.tolist() == [64 * 3, 64 * 2]


def test_expression_matches_the_registry_function():
    rosenbrock = get_landscape("rosenbrock").bind()
    typed = parse_expression("(1 - x)^2 + 100*(y - x^2)^2")
    points = torch.randn(64, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(typed(points), rosenbrock(points), rtol=1e-14, atol=1e-12)


def test_compiled_function_is_vectorised_and_keeps_dtype():
    expression = parse_expression("sin(x)*y**2 + min(x, 1)")
    grid = torch.rand(5, 7, 2, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
    values = expression(grid)
    assert values.shape == (5, 7)
    assert values.dtype == torch.float32
    pointwise = torch.stack([expression(p) for p in grid.view(-1, 2)]).view(5, 7)
    torch.testing.assert_close(values, pointwise)


def test_latex_rendering():
    assert parse_expression("sin(x)*y**2 + 0.1*(x**2+y**2)").latex == (
        r"\sin\left(x\right) \cdot y^{2} + 0.1 \cdot \left(x^{2} + y^{2}\right)"
    )
    assert parse_expression("-(x - y)^2 / sqrt(abs(y)) - 1.5e-3*x").latex == (
        r"\frac{-\left(x - y\right)^{2}}{\sqrt{\left|y\right|}} - 1.5 \times 10^{-3} \cdot x"
    )
    assert parse_expression("x - (y - pi)").latex == r"x - \left(y - \pi\right)"


def test_typed_function_is_a_landscape():
    landscape = expression_landscape("x^2 + 3*y^2", view_box=((-2, 2), (-1, 1)))
    description = json.loads(json.dumps(landscape.describe(), allow_nan=False))
    assert description["id"] == "custom"
    assert description["latex"] == "f(x,y) = x^{2} + 3 \\cdot y^{2}"
    assert description["global_minima"] == []
    assert description["notable_points"] == []
    assert description["view_box"] == [[-2.0, 2.0], [-1.0, 1.0]]
    x, y = landscape.default_start
    assert -2 < x < 0 < y < 1
    assert landscape.bind()(torch.tensor([1.0, 1.0])).item() == 4.0
    assert expression_landscape("x*y").view_box == ((-3.0, 3.0), (-3.0, 3.0))
    with pytest.raises(ValueError, match="view_box"):
        expression_landscape("x", view_box=((1, -1), (0, 1)))


# (input, fragment of the message, position of the problem)
REJECTED = [
    ("", "empty expression", 0),
    ("   ", "empty expression", 3),
    ("x.__class__", "attribute access", 1),
    ("(x).real", "attribute access", 3),
    ("__import__('os')", "names starting with '_'", 0),
    ("x + __builtins__", "names starting with '_'", 4),
    ("lambda: x", "unknown name 'lambda'", 0),
    ("[x for x in y]", "indexing", 0),
    ("(x for x in y)", "unexpected 'for'", 3),
    ("import os", "unknown name 'import'", 0),
    ("open('/etc/passwd')", "unknown name 'open'", 0),
    ("eval(x)", "unknown name 'eval'", 0),
    ("foo(x) + 1", "unknown name 'foo'", 0),
    ("globals", "unknown name 'globals'", 0),
    ("'x'", "strings are not allowed", 0),
    ("x; y", "only one expression", 1),
    ("x == y", "assignments and comparisons", 2),
    ("x @ y", "unexpected character '@'", 2),
    ("x λ", "unexpected character 'λ'", 2),
    ("x\x00", "unexpected character", 1),
    ("x ** 17", "exponent too large", 5),
    ("x ** (4*5)", "exponent too large", 7),
    ("9**9**9 * x", "exponent too large", 4),
    ("x ** -17", "exponent too large", 5),
    ("1e999 * x", "number too large", 0),
    ("x * 10000000", "number too large", 4),
    ("(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5), "nested too deeply", MAX_DEPTH),
    ("-" * 100 + "x", "nested too deeply", MAX_DEPTH),
    ("sin(" * 40 + "x" + ")" * 40, "nested too deeply", 4 * MAX_DEPTH),
    ("x+" * 300 + "x", "too long", MAX_LENGTH),
    ("+".join(["x"] * 200), "too large", 255),
    ("sin(x", "expected ')'", 5),
    ("x +", "unexpected end", 3),
    ("x * * y", "unexpected '*'", 4),
    (")", "unexpected ')'", 0),
    ("x, y", "unexpected ','", 1),
    ("2x", "write * for multiplication", 1),
    ("x y", "write * for multiplication", 2),
    ("sin x", "'sin' is a function", 0),
    ("x(2)", "'x' is not a function", 0),
    ("pi(2)", "'pi' is not a function", 0),
    ("min(x)", "min takes 2 arguments, got 1", 0),
    ("sin(x, y)", "sin takes 1 argument, got 2", 0),
    ("log(0) * x", "non-finite", 0),
    ("x + 1/0", "non-finite", 5),
    ("3 + 4", "constant", 0),
]


@pytest.mark.parametrize(
    ("text", "message", "position"), REJECTED, ids=[r[0][:24] for r in REJECTED]
)
def test_hostile_or_broken_input_is_rejected_clearly(text, message, position):
    with pytest.raises(ExpressionError) as raised:
        parse_expression(text)
    error = raised.value
    assert isinstance(error, ValueError)
    assert message in error.reason
    assert error.position == position
    assert str(error) == f"{error.reason} (at position {position})"


def test_non_string_input_is_rejected():
    with pytest.raises(ExpressionError, match="must be a string"):
        parse_expression(None)


def test_parser_never_uses_eval_exec_or_compile(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the parser must not evaluate user text as Python")

    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, forbidden)
    expression = parse_expression("sin(x)*y**2 + 0.1*(x**2+y**2) + atan2(y, x+5)")
    assert expression(torch.tensor([0.0, 1.0], dtype=F64)).item() == pytest.approx(
        0.1 + math.atan2(1, 5)
    )


def test_every_function_is_differentiable():
    for name, (arity, _) in FUNCTIONS.items():
        args = ", ".join(["0.3*x + 0.2", "0.2*y + 0.4"][:arity])
        xy = torch.tensor([0.5, 0.7], dtype=F64, requires_grad=True)
        parse_expression(f"{name}({args})")(xy).backward()
        assert torch.isfinite(xy.grad).all(), name


def parse_or_error(text: str):
    """The parsed expression, or the `ExpressionError` it raised (any other error propagates)."""
    try:
        return parse_expression(text)
    except ExpressionError as error:
        return error


ALPHABET = "xy0123456789.eE+-*/^(),_ \tsincoqrtlgpabhmx[]'\".=;:@λ"


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(alphabet=ALPHABET, max_size=60)))
def test_random_text_only_ever_raises_expression_error(text):
    result = parse_or_error(text)
    if isinstance(result, ExpressionError):
        assert 0 <= result.position <= len(text)
        return
    values = result(torch.linspace(-2, 2, 10, dtype=F64).view(5, 2))
    assert values.shape == (5,)


LEAVES = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "2": lambda x, y: 2.0,
    "0.5": lambda x, y: 0.5,
    "pi": lambda x, y: math.pi,
    "(x - y)": lambda x, y: x - y,
}
CALLS = {"sin": math.sin, "cos": math.cos, "tanh": math.tanh, "abs": abs}
OPERATORS = {"+": float.__add__, "-": float.__sub__, "*": float.__mul__}


@st.composite
def expression_and_reference(draw, depth=0):
    """A random well-formed expression and the same function written in Python, for a
    differential check of parsing, precedence and compilation."""
    if depth > 3 or draw(st.booleans()):
        leaf = draw(st.sampled_from(sorted(LEAVES)))
        return leaf, LEAVES[leaf]
    text, reference = draw(expression_and_reference(depth + 1))
    kind = draw(st.sampled_from(["operator", "minus", "call", "square"]))
    if kind == "minus":
        return f"-({text})", lambda x, y: -reference(x, y)
    if kind == "square":
        return f"({text})^2", lambda x, y: reference(x, y) ** 2
    if kind == "call":
        name = draw(st.sampled_from(sorted(CALLS)))
        return f"{name}({text})", lambda x, y: CALLS[name](reference(x, y))
    symbol = draw(st.sampled_from(sorted(OPERATORS)))
    right_text, right = draw(expression_and_reference(depth + 1))
    combine = OPERATORS[symbol]
    return (
        f"({text}) {symbol} ({right_text})",
        lambda x, y: combine(float(reference(x, y)), float(right(x, y))),
    )


@settings(max_examples=200, deadline=None)
@given(expression_and_reference(), st.floats(-2, 2), st.floats(-2, 2))
def test_compiled_values_match_a_python_reference(case, x, y):
    text, reference = case
    result = parse_or_error(text)
    if isinstance(result, ExpressionError):
        assert "constant" in result.reason  # e.g. "2 + pi"
        return
    value = result(torch.tensor([x, y], dtype=F64)).item()
    assert value == pytest.approx(reference(x, y), rel=1e-12, abs=1e-12)
