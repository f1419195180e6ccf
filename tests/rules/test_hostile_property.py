"""Generated and mutated rule files through the loader (as `rules check` and the web's rule
check run it) and, when accepted, through their examples (as `rules test` runs them): only
RuleSetError ever comes out, each file is decided within hypothesis' deadline, and no file
with an inf or nan in it is ever accepted."""
from __future__ import annotations

import io
import math
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from rules import SETS_DIR
from rules.examples import run_examples
from rules.loader import LoadedRuleSet, RuleSetError, load_rule_set_text
from rules.yamltree import parse, plain

SHIPPED = (SETS_DIR / "member_duties.yaml").read_text(encoding="utf-8")   # the smallest shipped set
SHIPPED_DOC = plain(parse(SHIPPED, "x")[0])
def fast(examples: int) -> settings:
    """A deadline per generated file (not a wall-clock assert); no example database on disk."""
    return settings(max_examples=examples, deadline=timedelta(seconds=3), database=None,
                    suppress_health_check=[HealthCheck.too_slow])

odd_numbers = st.sampled_from([math.inf, -math.inf, math.nan, 1e309, 1e300, -1e12, 10**30, 2**63, 0.1 + 0.2,
                               -0.0, 5e-324, 1_000_000_001])
numbers = st.one_of(odd_numbers, st.integers(), st.floats(allow_nan=True, allow_infinity=True))
words = st.sampled_from(["code", "name", "max", "min", "method", "duty", "deduct", "missed", "late", "floor",
                         "items", "sections", "grades", "expect", "total", "metrics", "examples", "rule_set",
                         "duties", "scoring", "frequency", "applies_to", "subject", "kind", "branch", "member"])
scalars = st.one_of(st.none(), st.booleans(), numbers, words, st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(words, st.text(max_size=8)), inner, max_size=4)),
    max_leaves=30)


def dump(doc: Any) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False       # flow {…} around Chinese prose trips the IME hint
    yaml.dump(doc, out)
    return out.getvalue()


def decide(text: str) -> LoadedRuleSet | None:
    """Load (and when accepted run the examples of) a file: None when refused."""
    try:
        loaded = load_rule_set_text(text, "generated.yaml")
    except RuleSetError as error:
        assert error.issues and all(i.message for i in error.issues)
        return None
    assert not _non_finite(loaded.rule_set.model_dump()), "accepted a file with inf or nan"
    run_examples(loaded)            # failing examples are results; anything raised is a bug
    return loaded


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_non_finite(v) for v in value)
    return False


@fast(150)
@given(values)
def test_random_structures_are_refused_cleanly(doc: Any) -> None:
    decide(dump(doc))


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, sub in value.items():
            found += _paths(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            found += _paths(sub, (*path, i))
    return found


PATHS = _paths(SHIPPED_DOC)[1:]


def _at(path: tuple[Any, ...]) -> Any:
    value: Any = SHIPPED_DOC
    for part in path:
        value = value[part]
    return value


NUMBER_PATHS = [p for p in PATHS if isinstance(_at(p), int | float) and not isinstance(_at(p), bool)]


def _mutated(path: tuple[Any, ...], how: str, new: Any) -> Any:
    import copy

    doc = copy.deepcopy(SHIPPED_DOC)
    *head, last = path
    parent = doc
    for part in head:
        parent = parent[part]
    if how == "delete":
        del parent[last]
    elif how == "nest":
        for _ in range(60):
            new = [new]
        parent[last] = new
    else:
        parent[last] = new
    return doc


@fast(60)
@given(st.sampled_from(PATHS), st.sampled_from(["delete", "replace", "nest"]), values)
def test_a_shipped_set_with_a_key_deleted_or_a_value_replaced_is_decided_cleanly(path: tuple[Any, ...],
                                                                                   how: str, new: Any) -> None:
    decide(dump(_mutated(path, how, new)))


@fast(60)
@given(st.sampled_from(NUMBER_PATHS), numbers)
def test_a_shipped_set_with_an_odd_number_never_accepts_inf_or_nan(path: tuple[Any, ...], number: Any) -> None:
    decide(dump(_mutated(path, "replace", number)))


FRAGMENTS = ["&a", "*a", "<<: *a", "x: &a [*a]", "[" * 80, "{" * 80, "!!int x", "!!binary zz", "\t", ": :",
             "1e309", ".nan", "- ", "? [1, 2]", "：", "\"", "'", "|", ">-", "%YAML 1.1", "---", "...", "#",
             "a: &b {<<: [*b]}", "&a [*a]", "9" * 5000, "\x00", "\ufeff", "- - - - - - - - - - -"]


@fast(100)
@given(st.integers(0, SHIPPED.count("\n")), st.integers(0, 60), st.lists(st.sampled_from(FRAGMENTS), min_size=1,
                                                                        max_size=3))
def test_a_shipped_set_with_hostile_text_inserted_is_decided_cleanly(line: int, column: int,
                                                                      fragments: list[str]) -> None:
    lines = SHIPPED.split("\n")
    target = lines[line]
    lines[line] = target[:column] + " ".join(fragments) + target[column:]
    decide("\n".join(lines))


def test_the_shipped_set_itself_is_accepted_by_decide() -> None:
    assert decide(SHIPPED) is not None
    assert decide(dump(SHIPPED_DOC)) is not None
