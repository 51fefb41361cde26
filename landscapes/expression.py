"""User-typed landscapes: a safe parser for expressions in x and y, compiled to torch.

The text goes through a tokenizer and a recursive-descent parser written here; it is never given
to `eval`, `exec`, `compile`, Python's `ast` or sympy. Nothing in the language can name a Python
object: the only names are `x`, `y`, the constants `pi` and `e`, and the functions in `FUNCTIONS`,
each mapped to a torch operation. The compiled function is differentiable, vectorised over a
trailing dimension of 2 and keeps the dtype and device of its input, like the registry's.

Grammar (precedence from loosest to tightest, as in Python):

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "-") unary | power
    power      := atom (("**" | "^") unary)?        right-associative: 2^3^2 = 2^9
    atom       := number | name | name "(" expression ("," expression)* ")" | "(" expression ")"

`^` means power, as in mathematics (never XOR), and `-x**2` is `-(x**2)`. Numbers are decimal,
with an optional exponent (`1.5e-3`); there is no implicit multiplication (`2x` is an error).

Limits, each reported as an `ExpressionError` with the offending position:
  MAX_LENGTH     500 characters.
  MAX_DEPTH      32 levels of nesting of parentheses, calls, signs and exponents.
  MAX_NODES      256 numbers, names and operations.
  MAX_LITERAL    numeric literals at most 1e6 in magnitude.
  MAX_EXPONENT   a constant exponent at most 16 in magnitude: x**16 over the default view box
                 [-3, 3]² stays within float32's range. Exponents that depend on x or y are
                 allowed; where they overflow, the surface sampler shows a gap.
Constant parts are evaluated once, in float64, when compiling; a constant part that is not finite
(`log(0)`, `1/0`) is an error, and so is an expression that uses neither x nor y.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from landscapes.landscape import Landscape, ViewBox, validate_view_box

MAX_LENGTH = 500
MAX_DEPTH = 32
MAX_NODES = 256
MAX_LITERAL = 1e6
MAX_EXPONENT = 16.0
DEFAULT_VIEW_BOX: ViewBox = ((-3.0, 3.0), (-3.0, 3.0))

FUNCTIONS: dict[str, tuple[int, Callable[..., Tensor]]] = {
    "sin": (1, torch.sin),
    "cos": (1, torch.cos),
    "tan": (1, torch.tan),
    "asin": (1, torch.asin),
    "acos": (1, torch.acos),
    "atan": (1, torch.atan),
    "arcsin": (1, torch.asin),
    "arccos": (1, torch.acos),
    "arctan": (1, torch.atan),
    "sinh": (1, torch.sinh),
    "cosh": (1, torch.cosh),
    "tanh": (1, torch.tanh),
    "exp": (1, torch.exp),
    "log": (1, torch.log),
    "ln": (1, torch.log),
    "log2": (1, torch.log2),
    "log10": (1, torch.log10),
    "sqrt": (1, torch.sqrt),
    "abs": (1, torch.abs),
    "min": (2, torch.minimum),
    "max": (2, torch.maximum),
    "hypot": (2, torch.hypot),
    "atan2": (2, torch.atan2),
}
"""Function name -> (number of arguments, torch operation)."""

CONSTANTS = {"pi": math.pi, "e": math.e}

_SPACE = re.compile(r"\s*", re.ASCII)
_TOKEN = re.compile(
    r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^(),])",
    re.ASCII,
)
_HINTS = {
    ".": " (attribute access is not allowed)",
    "[": " (indexing is not allowed)",
    "'": " (strings are not allowed)",
    '"': " (strings are not allowed)",
    "=": " (assignments and comparisons are not allowed)",
    ";": " (only one expression is allowed)",
}
_BINARY = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}


class ExpressionError(ValueError):
    """A rejected expression: `reason` says what is wrong, `position` is the 0-based offset of
    the character where the problem was found."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} (at position {position})")
        self.reason = reason
        self.position = position


# --- Syntax tree --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A numeric literal, or the constant pi or e."""

    value: float
    text: str  # as typed, or the constant's name, for the LaTeX rendering
    position: int


@dataclass(frozen=True)
class Variable:
    """x or y."""

    name: str  # "x" or "y"
    position: int


@dataclass(frozen=True)
class Unary:
    """A sign applied to an operand."""

    op: str  # "+" or "-"
    operand: Node
    position: int


@dataclass(frozen=True)
class Binary:
    """An arithmetic operation."""

    op: str  # "+", "-", "*", "/" or "**" ("^" is stored as "**")
    left: Node
    right: Node
    position: int


@dataclass(frozen=True)
class Call:
    """A call of one of `FUNCTIONS`."""

    name: str
    args: tuple[Node, ...]
    position: int


Node = Number | Variable | Unary | Binary | Call


# --- Tokenizer and parser -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op", "end", or "error" for a character outside the language
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    """Split `text` into tokens, ending with an "end" token, or with an "error" token at the
    first character outside the language (reported only if the parser gets that far, so errors
    come out in reading order)."""
    tokens, position = [], 0
    while True:
        position = _SPACE.match(text, position).end()
        if position == len(text):
            return [*tokens, _Token("end", "", position)]
        match = _TOKEN.match(text, position)
        if match is None:
            return [*tokens, _Token("error", text[position], position)]
        tokens.append(_Token(match.lastgroup, match.group(), position))
        position = match.end()


class _Parser:
    """Recursive descent over the grammar in the module docstring, building a `Node` tree."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.nodes = 0

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionError("empty expression", self.peek().position)
        tree = self.expression()
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token, "expected an operator")
        return tree

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, *ops: str) -> _Token | None:
        token = self.peek()
        if token.kind == "op" and token.text in ops:
            return self.advance()
        return None

    def count(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(
                f"expression too large (more than {MAX_NODES} parts)", node.position
            )
        return node

    def unexpected(self, token: _Token, expected: str) -> ExpressionError:
        """The error for finding `token` where the grammar wanted `expected`."""
        if token.kind == "error":
            hint = _HINTS.get(token.text, "")
            return ExpressionError(f"unexpected character {token.text!r}{hint}", token.position)
        if token.kind == "end":
            return ExpressionError(f"unexpected end of expression: {expected}", token.position)
        if expected == "expected an operator" and token.text not in (")", ","):
            expected += "; write * for multiplication"
        return ExpressionError(f"unexpected {token.text!r}: {expected}", token.position)

    def expression(self) -> Node:
        node = self.term()
        while token := self.accept("+", "-"):
            node = self.count(Binary(token.text, node, self.term(), token.position))
        return node

    def term(self) -> Node:
        node = self.unary()
        while token := self.accept("*", "/"):
            node = self.count(Binary(token.text, node, self.unary(), token.position))
        return node

    def unary(self) -> Node:
        # Every recursive path of the grammar passes through here, so counting depth here bounds
        # the recursion (and Python's stack) whatever the input.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression nested too deeply (over {MAX_DEPTH} levels)", self.peek().position
            )
        if token := self.accept("+", "-"):
            node = self.count(Unary(token.text, self.unary(), token.position))
        else:
            node = self.power()
        self.depth -= 1
        return node

    def power(self) -> Node:
        base = self.atom()
        if token := self.accept("**", "^"):
            return self.count(Binary("**", base, self.unary(), token.position))
        return base

    def atom(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            value = float(token.text)
            if not value <= MAX_LITERAL:
                raise ExpressionError(
                    f"number too large (the limit is {MAX_LITERAL:g})", token.position
                )
            return self.count(Number(value, token.text, token.position))
        if token.kind == "name":
            return self.count(self.name(token))
        if token.kind == "op" and token.text == "(":
            node = self.expression()
            self.expect(")")
            return node
        self.index -= 1  # never step past the "end" token
        raise self.unexpected(token, "expected a number, a name or '('")

    def name(self, token: _Token) -> Node:
        name, position = token.text, token.position
        is_call = self.peek().text == "(" and self.peek().kind == "op"
        if name in ("x", "y") or name in CONSTANTS:
            if is_call:
                raise ExpressionError(f"{name!r} is not a function", position)
            if name in CONSTANTS:
                return Number(CONSTANTS[name], name, position)
            return Variable(name, position)
        if name in FUNCTIONS:
            if not is_call:
                raise ExpressionError(f"{name!r} is a function: write {name}(...)", position)
            self.advance()
            args = [self.expression()]
            while self.accept(","):
                args.append(self.expression())
            self.expect(")")
            arity = FUNCTIONS[name][0]
            if len(args) != arity:
                plural = "s" if arity > 1 else ""
                raise ExpressionError(
                    f"{name} takes {arity} argument{plural}, got {len(args)}", position
                )
            return Call(name, tuple(args), position)
        if name.startswith("_"):
            raise ExpressionError(f"names starting with '_' are not allowed: {name!r}", position)
        allowed = ", ".join(["x", "y", *CONSTANTS, *FUNCTIONS])
        raise ExpressionError(f"unknown name {name!r}; allowed names: {allowed}", position)

    def expect(self, op: str) -> None:
        if not self.accept(op):
            raise self.unexpected(self.peek(), f"expected {op!r}")


# --- Compiler -----------------------------------------------------------------------------------

_Compiled = float | Callable[[Tensor, Tensor], Tensor]
"""A compiled subtree: a float when it is constant, else a function of the x and y tensors."""


def _fold(op: Callable[..., Tensor], values: list[float], position: int) -> float:
    """Evaluate a constant subtree once, in float64; torch returns inf or NaN where Python's math
    would raise, and those are rejected."""
    result = float(op(*(torch.tensor(v, dtype=torch.float64) for v in values)))
    if not math.isfinite(result):
        raise ExpressionError("this constant part evaluates to a non-finite number", position)
    return result


def _compile(node: Node) -> _Compiled:
    """Compile `node` to a float (constant subtrees are folded) or a torch function of (x, y)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Variable):
        if node.name == "x":
            return lambda x, y: x
        return lambda x, y: y
    if isinstance(node, Unary):
        operand = _compile(node.operand)
        if node.op == "+":
            return operand
        if isinstance(operand, float):
            return -operand
        return lambda x, y: -operand(x, y)
    if isinstance(node, Binary):
        return _compile_binary(node)
    return _compile_call(node)


def _compile_binary(node: Binary) -> _Compiled:
    op = _BINARY[node.op]
    left, right = _compile(node.left), _compile(node.right)
    if node.op == "**" and isinstance(right, float) and abs(right) > MAX_EXPONENT:
        raise ExpressionError(
            f"exponent too large (the limit is {MAX_EXPONENT:g})", node.right.position
        )
    if isinstance(left, float) and isinstance(right, float):
        return _fold(op, [left, right], node.position)
    # Python operators take a float on either side of a tensor.
    if isinstance(left, float):
        return lambda x, y: op(left, right(x, y))
    if isinstance(right, float):
        return lambda x, y: op(left(x, y), right)
    return lambda x, y: op(left(x, y), right(x, y))


def _compile_call(node: Call) -> _Compiled:
    function = FUNCTIONS[node.name][1]
    args = [_compile(arg) for arg in node.args]
    if all(isinstance(arg, float) for arg in args):
        return _fold(function, args, node.position)

    def evaluate(x: Tensor, y: Tensor) -> Tensor:
        # Two-argument torch functions want tensors on both sides.
        return function(*(x.new_tensor(a) if isinstance(a, float) else a(x, y) for a in args))

    return evaluate


# --- LaTeX --------------------------------------------------------------------------------------

_LATEX_FUNCTIONS = {
    **{
        name: f"\\{name}"
        for name in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "log", "ln")
    },
    **{
        name: f"\\arc{name[-3:]}" for name in ("asin", "acos", "atan", "arcsin", "arccos", "arctan")
    },
    "log2": r"\log_{2}",
    "log10": r"\log_{10}",
    "min": r"\min",
    "max": r"\max",
    "hypot": r"\operatorname{hypot}",
    "atan2": r"\operatorname{atan2}",
}
_ATOM, _POWER, _FRACTION, _PRODUCT, _SUM = 5, 4, 3, 2, 1


def _latex(node: Node) -> tuple[str, int]:
    """LaTeX for `node` and its binding strength, so callers add parentheses only when needed."""
    if isinstance(node, Number):
        if node.text in CONSTANTS:
            return (r"\pi" if node.text == "pi" else "e"), _ATOM
        mantissa, _, exponent = node.text.lower().partition("e")
        if exponent:
            return rf"{mantissa} \times 10^{{{int(exponent)}}}", _PRODUCT
        return mantissa, _ATOM
    if isinstance(node, Variable):
        return node.name, _ATOM
    if isinstance(node, Unary):
        return node.op + _wrap(node.operand, _FRACTION), _PRODUCT
    if isinstance(node, Call):
        args = ", ".join(_latex(arg)[0] for arg in node.args)
        if node.name == "sqrt":
            return rf"\sqrt{{{args}}}", _ATOM
        if node.name == "abs":
            return rf"\left|{args}\right|", _ATOM
        return rf"{_LATEX_FUNCTIONS[node.name]}\left({args}\right)", _ATOM
    if node.op == "**":
        return f"{_wrap(node.left, _ATOM)}^{{{_latex(node.right)[0]}}}", _POWER
    if node.op == "/":
        return rf"\frac{{{_latex(node.left)[0]}}}{{{_latex(node.right)[0]}}}", _FRACTION
    if node.op == "*":
        return rf"{_wrap(node.left, _PRODUCT)} \cdot {_wrap(node.right, _FRACTION)}", _PRODUCT
    return f"{_wrap(node.left, _SUM)} {node.op} {_wrap(node.right, _PRODUCT)}", _SUM


def _wrap(node: Node, strength: int) -> str:
    text, own = _latex(node)
    return text if own >= strength else rf"\left({text}\right)"


# --- Public API ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A parsed and compiled expression. Calling it maps `xy (..., 2)` to values `(...)`."""

    text: str
    tree: Node
    latex: str
    function: Callable[[Tensor, Tensor], Tensor]  # (x, y) -> values

    def __call__(self, xy: Tensor) -> Tensor:
        return self.function(xy[..., 0], xy[..., 1])


def parse_expression(text: str) -> Expression:
    """Parse, check and compile `text`; `ExpressionError` (a ValueError) if it is rejected."""
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be a string, got {type(text).__name__}", 0)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression too long (the limit is {MAX_LENGTH} characters)", MAX_LENGTH
        )
    tree = _Parser(text).parse()
    compiled = _compile(tree)
    if isinstance(compiled, float):
        raise ExpressionError("the expression is constant: it must use x or y", 0)
    return Expression(text, tree, _latex(tree)[0], compiled)


def expression_landscape(
    text: str, *, view_box: ViewBox = DEFAULT_VIEW_BOX, label: str | None = None
) -> Landscape:
    """A user-typed function as a `Landscape` (id "custom", no parameters, no known minima), so it
    can be plotted and optimised like a registry entry. It starts at 2/3 of the way from the view
    box's centre to its top-left corner."""
    expression = parse_expression(text)
    (xmin, xmax), (ymin, ymax) = validate_view_box(view_box)
    centre_x, centre_y = (xmin + xmax) / 2, (ymin + ymax) / 2
    return Landscape(
        id="custom",
        label=label or text,
        fn=lambda xy, _params: expression(xy),
        latex=f"f(x,y) = {expression.latex}",
        view_box=((xmin, xmax), (ymin, ymax)),
        default_start=(centre_x + (xmin - centre_x) * 2 / 3, centre_y + (ymax - centre_y) * 2 / 3),
        colour_scale="linear",
        note="A user-typed function.",
    )
