"""Outcomes after the individual scores: vetoes and overrides (否决项、直接定级),
designations (称号：“五好”党支部、明星党员), quotas (名额) and ranks.

    rules.outcomes.apply_outcomes(loaded, scores, subjects) -> list[UnitOutcome]
    rules.outcomes.Subject(unit_id, street_id, district_id, metrics)

The clause models are in rules.outcomes.schema (fields `vetoes`, `designations`, `quotas`
of rules.schema.RuleSet), their load checks in rules.outcomes.checks, the engine in
rules.outcomes.engine. Names are imported lazily: rules.schema imports the clause models,
and the engine imports the loader, which imports rules.schema.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Subject", "UnitOutcome", "apply_outcomes"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rules.outcomes import engine
        return getattr(engine, name)
    raise AttributeError(f"module 'rules.outcomes' has no attribute {name!r}")
