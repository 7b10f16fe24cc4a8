"""The exceptions matcalc raises: every one derives from :class:`MatcalcError`."""

from __future__ import annotations


class MatcalcError(Exception):
    """Base of every error matcalc raises on bad input: catch it to catch them all.

    Examples
    --------
    >>> try:
    ...     mc.matrix("A", 2, 3) @ mc.matrix("B", 2, 3)
    ... except mc.MatcalcError as error:
    ...     print(type(error).__name__)
    ShapeError
    """


class ShapeError(MatcalcError, ValueError):
    """Operands whose shapes do not fit the operation; the message names the operation and both
    shapes.  It is also a ``ValueError``.

    Examples
    --------
    >>> mc.trace(mc.matrix("A", 2, 3))
    Traceback (most recent call last):
    ...
    matcalc.errors.ShapeError: trace: needs a square matrix, got 2×3
    """


class ParseError(MatcalcError, ValueError):
    """Text that is not an expression in matcalc's string syntax.  It is also a ``ValueError``.

    The message gives the line and column and draws a caret under the place.

    Parameters
    ----------
    message : str
        What is wrong.
    text : str, optional
        The whole text that was parsed.
    position : int or None, optional
        Where in ``text`` the problem is (an index); ``line`` and ``column`` are computed from it.

    Examples
    --------
    >>> try:
    ...     mc.parse("x'*A*x +")
    ... except mc.ParseError as error:
    ...     print(error.line, error.column)
    1 9
    """

    def __init__(self, message: str, text: str = "", position: int | None = None):
        self.text = text
        self.position = position
        self.line = self.column = None
        if position is not None and text:
            self.line = text.count("\n", 0, position) + 1
            line_start = text.rfind("\n", 0, position) + 1
            self.column = position - line_start + 1
            line_end = text.find("\n", position)
            source_line = text[line_start : line_end if line_end >= 0 else len(text)]
            if len(source_line) > 120:
                cut = max(0, self.column - 60)
                source_line = source_line[cut : cut + 120]
                caret_at = self.column - 1 - cut
            else:
                caret_at = self.column - 1
            printable = "".join(ch if ch.isprintable() else "?" for ch in source_line)
            message = (
                f"{message} (line {self.line}, column {self.column})\n"
                f"  {printable}\n  {' ' * caret_at}^"
            )
        super().__init__(message)


class DifferentiationError(MatcalcError, ValueError):
    """A derivative that was asked of something that does not have one here: a gradient of a
    non-scalar, with respect to what is not a variable, an unknown derivation view.  It is also
    a ``ValueError``.

    Examples
    --------
    >>> x = mc.vector("x", 3)
    >>> mc.grad(x, x)
    Traceback (most recent call last):
    ...
    matcalc.errors.DifferentiationError: grad: loss has shape 3×1; a gradient needs a scalar loss; see jacobian
    """


class EvaluationError(MatcalcError, ValueError):
    """Values for numeric evaluation that are missing, misshapen or not finite.  It is also a
    ``ValueError``.

    Examples
    --------
    >>> mc.evaluate(mc.vector("x", 3) * 2, {})
    Traceback (most recent call last):
    ...
    matcalc.errors.EvaluationError: evaluate: no value for vector 'x' (shape 3×1)
    """


class OperandError(MatcalcError, TypeError):
    """An operand that is not an expression, a dimension or a finite number.  It is also a
    ``TypeError``.

    Examples
    --------
    >>> mc.vector("x", 3) + "1"
    Traceback (most recent call last):
    ...
    matcalc.errors.OperandError: +: cannot combine a matrix expression with str '1'
    """
