"""A hostile or broken rule file is refused while it is read (rules.limits), with a Chinese
message at its file:line:column: never gigabytes, minutes, a RecursionError or an inf that
crashes scoring later."""
from __future__ import annotations

import pytest

from rules import limits
from rules.loader import RuleSetError, load_rule_set_file, load_rule_set_text
from tests.rules.texts import BASE, edit, item, rule_text, section


def issues_of(text: str, name: str = "t.yaml") -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        load_rule_set_text(text, name)
    return [str(issue) for issue in caught.value.issues]


def billion_laughs() -> str:
    """355 bytes that expand to 9⁹ strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_the_alias_that_breaks_the_node_limit() -> None:
    assert issues_of(billion_laughs()) == [f"t.yaml:6:8: 内容超过 {limits.MAX_NODES} 个节点上限（别名按展开计）"]


def test_nested_merge_keys_are_counted_expanded_too() -> None:
    lines = ["a0: &a0 {x: 1, y: 2, z: 3}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}, *a{i - 1}], q{i}: 1}}" for i in range(1, 12)]
    (issue,) = issues_of("\n".join(lines) + "\n")
    assert "个节点上限" in issue


def test_more_aliases_than_the_limit_are_refused_at_the_first_one_too_many() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (limits.MAX_ALIASES + 1)) + "]\n"
    (issue,) = issues_of(text)
    assert issue.startswith("t.yaml:2:") and f"别名（*引用）超过 {limits.MAX_ALIASES} 个上限" in issue


def test_an_alias_inside_its_own_anchor_is_refused_not_recursed() -> None:
    assert issues_of("a: &a [1, *a]\n") == ["t.yaml:1:11: 别名 *a 引用了包含它自身的锚点（循环引用）"]


def test_an_alias_inside_a_reused_anchor_name_is_refused_too() -> None:
    assert issues_of("a: &x 1\nb: &x [*x]\n") == ["t.yaml:2:8: 别名 *x 引用了包含它自身的锚点（循环引用）"]


@pytest.mark.parametrize("text", [
    "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "x: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n",
    "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n",
], ids=["flow lists", "flow mappings", "block mappings"])
def test_deep_nesting_is_refused_at_the_level_past_the_limit(text: str) -> None:
    (issue,) = issues_of(text)
    assert issue.endswith(f"嵌套超过 {limits.MAX_DEPTH} 层上限")


def test_a_run_of_brackets_is_refused_at_the_one_too_deep_before_yaml_scans_it() -> None:
    assert issues_of("x: " + "[ " * 100_000 + "\n") == ["t.yaml:1:104: 嵌套超过 50 层上限"]


def test_brackets_in_quoted_text_or_comments_are_only_text() -> None:
    text = edit("  name: 测试规则                            # 4",
                "  name: \"" + "[" * 60 + "\"  # " + "{" * 60)
    assert load_rule_set_text(text, "t.yaml").rule_set.name == "[" * 60


def test_an_alias_that_would_nest_too_deep_when_expanded_is_refused() -> None:
    deep = "[" * 30 + "1" + "]" * 30
    text = f"a: &a {deep}\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    (issue,) = issues_of(text)
    assert f"别名 *a 展开后嵌套超过 {limits.MAX_DEPTH} 层上限" in issue


def test_aliases_within_the_limits_still_load() -> None:
    items = (item("a", "party_congress", max=50, missed=5, late=2)
             + item("b", "committee_meeting", max=50, missed=5, late=2))
    text = rule_text(section("meetings", 100, items))
    text = text.replace("deduct: {missed: 5, late: 2}", "deduct: &d {missed: 5, late: 2}", 1)
    text = text.replace("deduct: {missed: 5, late: 2}", "deduct: *d", 1)
    loaded = load_rule_set_text(text, "t.yaml")
    first, second = loaded.rule_set.scoring.sections[0].items
    assert first.deduct == second.deduct      # type: ignore[union-attr]


def test_a_text_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    text = BASE + "#" + "x" * limits.MAX_FILE_BYTES + "\n"
    assert issues_of(text) == ["t.yaml:1:1: 规则文件超过 1 MB 上限（实际 1.0 MB），请拆分或删去多余内容"]


def test_a_file_over_the_size_limit_is_refused_naming_its_real_size(tmp_path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (10 * 1024 * 1024))
    with pytest.raises(RuleSetError) as caught:
        load_rule_set_file(path)
    assert [str(i) for i in caught.value.issues] == [f"{path}:1:1: 规则文件超过 1 MB 上限（实际 10.0 MB），请拆分或删去多余内容"]


def test_a_directory_is_refused_as_not_a_rule_file(tmp_path) -> None:
    with pytest.raises(RuleSetError) as caught:
        load_rule_set_file(tmp_path)
    assert str(caught.value.issues[0]) == f"{tmp_path}:1:1: 这是一个目录，不是规则文件"


BOUND = f"规则文件中的数字须是有限值，绝对值不超过 {limits.NUMBER_TEXT}"


@pytest.mark.parametrize("literal", ["1e309", ".inf", "-.inf", ".nan", ".NaN", "-1e400"])
def test_a_number_that_is_not_finite_is_refused_at_its_field(literal: str) -> None:
    assert issues_of(edit("deduct: {missed: 5,", f"deduct: {{missed: {literal},"), ) == [
        f"t.yaml:24:28: missed：数值 {literal} 不是有限的数字（{BOUND}）"]


def test_a_quoted_inf_or_nan_is_not_taken_for_a_number() -> None:
    assert issues_of(edit("deduct: {missed: 5, late: 2}", 'deduct: {missed: "inf", late: "nan"}')) == [
        "t.yaml:24:28: missed：应为有限的数字", "t.yaml:24:41: late：应为有限的数字"]


def test_numbers_beyond_the_bound_or_too_long_are_refused_all_at_once() -> None:
    text = edit("          max: 100                          # 21",
                "          max: 1e300                        # 21")
    text = edit("deduct: {missed: 5,", "deduct: {missed: " + "9" * 5000 + ",", text)
    assert issues_of(text) == [
        f"t.yaml:21:16: max：数值 1e300 超出范围（{BOUND}）",
        f"t.yaml:24:28: missed：数字 {'9' * 20}… 位数过多（{BOUND}）",
    ]


def test_a_number_tag_on_text_is_refused_not_crashed() -> None:
    assert issues_of(edit("deduct: {missed: 5,", "deduct: {missed: !!int abc,")) == [
        "t.yaml:24:28: missed：无法识别的数字 abc"]
