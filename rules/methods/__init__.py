"""Scoring methods, one class per file, joined in a union discriminated on `method`.

To add a method (ladder, checklist, ratio, rank, bonus, manual, formula): write a
subclass of ItemBase with `method: Literal["<name>"]`, `bounds()` and `evaluate()`,
and append it to METHODS. The loader lists METHODS' names when a file names another.
"""
from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from rules.methods.base import ItemBase
from rules.methods.duty_deduction import Deduct, DutyDeduction

METHODS: tuple[type[ItemBase], ...] = (DutyDeduction,)

Item = Annotated[Union[METHODS], Field(discriminator="method")]  # type: ignore[valid-type]  # noqa: UP007


def method_names() -> list[str]:
    return [cls.model_fields["method"].annotation.__args__[0] for cls in METHODS]  # type: ignore[union-attr]


__all__ = ["METHODS", "Deduct", "DutyDeduction", "Item", "ItemBase", "method_names"]
