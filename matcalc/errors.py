"""The exceptions matcalc raises: every one derives from :class:`MatcalcError`."""

from __future__ import annotations


class MatcalcError(Exception):
    """Base of every error matcalc raises on bad input."""


class ShapeError(MatcalcError, ValueError):
    """Operands whose shapes do not fit the operation."""


class ParseError(MatcalcError, ValueError):
    """Text that is not an expression in matcalc's string syntax."""

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
    """A derivative that was asked of something that does not have one here."""


class EvaluationError(MatcalcError, ValueError):
    """Values for numeric evaluation that are missing, misshapen or not finite."""


class OperandError(MatcalcError, TypeError):
    """An operand that is not an expression, a dimension or a finite number."""
