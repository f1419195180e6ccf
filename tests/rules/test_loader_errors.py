"""Every kind of mistake in a rule file is reported at its exact file:line:column, in
Chinese, and all of them at once."""
from __future__ import annotations

from pathlib import Path

import pytest

from dangjian.errors import NotFound, ValidationFailed
from rules.loader import RuleIssue, RuleSetError, load_rule_set_file, load_rule_set_text
from tests.rules.texts import BASE, edit


def issues_of(text: str, name: str = "t.yaml") -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        load_rule_set_text(text, name)
    return [str(issue) for issue in caught.value.issues]


def test_base_text_loads_with_source_hash_and_clauses() -> None:
    loaded = load_rule_set_text(BASE, "t.yaml")
    assert loaded.rule_set.code == "test-set"
    assert loaded.source == BASE
    assert len(loaded.sha256) == 64
    assert loaded.file_name == "t.yaml"
    assert loaded.clause("congress") == "t.yaml:19 组织生活/党员大会按期召开"
    assert loaded.clause("meetings") == "t.yaml:15 组织生活"


def test_issue_prints_as_file_line_column_message() -> None:
    issue = RuleIssue("a.yaml", 3, 7, "缺少必填项 name")
    assert str(issue) == "a.yaml:3:7: 缺少必填项 name"


def test_rule_set_error_is_a_validation_failure_listing_every_issue() -> None:
    with pytest.raises(ValidationFailed) as caught:
        load_rule_set_text(edit("          max: 100 ", "          max: abc "), "t.yaml")
    assert isinstance(caught.value, RuleSetError)
    assert "t.yaml:21:16: max：应为数字，实际为 'abc'" in str(caught.value)


def test_yaml_syntax_error_points_at_the_bad_indentation() -> None:
    text = edit("  version: \"1\"", "   version: \"1\"")
    assert issues_of(text) == [
        "t.yaml:3:4: YAML 语法错误：缩进不一致：这一行的缩进与同级的键不同"
    ]


def test_mapping_value_where_none_is_allowed_is_a_syntax_error() -> None:
    (issue,) = issues_of(edit("  name: 测试规则", "  name: 测试规则 basis: 多写了一个键"))
    assert issue.startswith("t.yaml:4:19: YAML 语法错误：此处不能出现“键: 值”")


def test_tab_indentation_is_a_syntax_error_with_a_hint() -> None:
    text = edit("    - code: meetings", "\t- code: meetings")
    (issue,) = issues_of(text)
    assert issue.startswith("t.yaml:15:1: YAML 语法错误") and "Tab" in issue


def test_duplicate_keys_are_all_reported_at_the_second_key() -> None:
    text = edit("    name: 党员大会 ", "    name: 党员大会\n    name: 再写一次 ")
    text = edit("  max_total: 100", "  max_total: 100\n  max_total: 90", text)
    assert issues_of(text) == [
        "t.yaml:8:5: 重复的键 name（第7行已有同名的键）",
        "t.yaml:14:3: 重复的键 max_total（第13行已有同名的键）",
    ]


def test_missing_field_points_at_the_mapping_that_lacks_it() -> None:
    text = edit("          name: 党员大会按期召开            # 20\n", "")
    assert issues_of(text) == ["t.yaml:19:11: 缺少必填项 name"]


def test_missing_field_inside_a_flow_mapping_points_at_its_brace() -> None:
    assert issues_of(edit("{missed: 5, late: 2}", "{missed: 5}")) == ["t.yaml:24:19: 缺少必填项 late"]


def test_unknown_key_lists_the_keys_allowed_there() -> None:
    assert issues_of(edit("  name: 测试规则", "  name: 测试规则\n  nmae: 多余")) == [
        "t.yaml:5:3: 未知的键 nmae（可用的键：code、version、name、description）"
    ]


def test_wrong_type_names_field_and_value() -> None:
    assert issues_of(edit("          max: 100 ", "          max: 一百 ")) == [
        "t.yaml:21:16: max：应为数字，实际为 '一百'"
    ]


def test_unquoted_version_number_gets_a_quoting_hint() -> None:
    (issue,) = issues_of(edit('version: "1"', "version: 2026.1"))
    assert issue.startswith("t.yaml:3:12: version：应为文本，实际为数字 2026.1") and "加引号" in issue


def test_bad_enum_lists_allowed_values() -> None:
    assert issues_of(edit("frequency: quarterly", "frequency: weekly")) == [
        "t.yaml:9:16: frequency：取值 'weekly' 无效，可选：monthly、quarterly、half_yearly、yearly"
    ]


def test_unknown_method_lists_the_known_methods() -> None:
    assert issues_of(edit("method: duty_deduction", "method: ladders")) == [
        ("t.yaml:22:19: 未知的计分方法 'ladders'（可用的计分方法：duty_deduction、ladder、checklist、ratio、"
         "ratio_bands、rank_points、bonus、penalty、manual、formula）")
    ]


def test_missing_method_lists_the_known_methods() -> None:
    text = edit("          method: duty_deduction            # 22\n", "")
    assert issues_of(text) == [("t.yaml:19:11: 缺少必填项 method（可用的计分方法：duty_deduction、ladder、checklist、"
                                "ratio、ratio_bands、rank_points、bonus、penalty、manual、formula）")]


def test_item_referencing_an_undefined_duty() -> None:
    assert issues_of(edit("duty: party_congress", "duty: party_congres")) == [
        "t.yaml:23:17: 条目引用了未定义的职责 party_congres（已定义的职责：party_congress）"
    ]


def test_bad_code_spelling_is_explained() -> None:
    assert issues_of(edit("code: congress", "code: Congress")) == [
        "t.yaml:19:17: code：代码 'Congress' 只能用小写英文字母、数字和下划线“_”，并以字母开头"
    ]


def test_duplicate_duty_and_item_codes() -> None:
    text = edit("    frequency: quarterly", "    frequency: quarterly\n"
                "  - code: party_congress\n    name: 又一个\n    applies_to: {kind: branch}\n"
                "    frequency: monthly")
    text = edit("          deduct: {missed: 5, late: 2}", "          deduct: {missed: 5, late: 2}\n"
                "        - {code: meetings, name: 同名, max: 1, method: duty_deduction,"
                " duty: party_congress, deduct: {missed: 1, late: 1}}", text)
    assert issues_of(text) == [
        "t.yaml:10:11: 重复的职责代码 party_congress（第6行已定义）",
        "t.yaml:29:18: 重复的节或条目代码 meetings（第19行已定义）",
    ]


def test_full_width_colon_in_a_key_gets_a_hint_instead_of_a_bare_syntax_error() -> None:
    assert issues_of(edit("    name: 党员大会 ", "    name：党员大会 ")) == [
        "t.yaml:7:9: 键 name 后用了全角冒号“：”，请改为半角冒号加空格“: ”"
    ]


def test_full_width_comma_in_a_flow_mapping() -> None:
    assert issues_of(edit("{missed: 5, late: 2}", "{missed: 5，late: 2}")) == [
        "t.yaml:24:29: 流式写法 {…} 或 […] 中用了全角逗号“，”，请改为半角逗号“,”"
    ]


def test_full_width_digits_where_a_number_is_expected() -> None:
    assert issues_of(edit("max_total: 100", "max_total: １００")) == [
        "t.yaml:12:14: 数字 １００ 用了全角字符，请改为半角 100"
    ]


def test_full_width_letters_in_a_key_and_full_width_brackets() -> None:
    text = edit("    frequency: quarterly", "    ｆｒｅｑｕｅｎｃｙ: quarterly")
    text = edit("applies_to: {kind: branch}", "applies_to: ｛kind: branch｝", text)
    assert issues_of(text) == [
        "t.yaml:8:17: 用了全角括号“｛”，请改为半角“{”",
        "t.yaml:8:30: 用了全角括号“｝”，请改为半角“}”",
        "t.yaml:9:5: 键 ｆｒｅｑｕｅｎｃｙ 含全角字符，请改为半角 frequency",
    ]


def test_full_width_punctuation_in_chinese_text_and_comments_is_fine() -> None:
    text = edit("  name: 测试规则", "  name: 测试规则\n  description: 说明：一，二；第１条  # 注：三，四")
    assert load_rule_set_text(text, "t.yaml").rule_set.rule_set.description == "说明：一，二；第１条"


def test_all_problems_are_reported_at_once_in_file_order() -> None:
    text = edit("  name: 测试规则", "  name: 测试规则\n  extra: 1")           # line 5
    text = edit("frequency: quarterly", "frequency: weekly", text)           # line 10
    text = edit("          max: 100 ", "          max: abc ", text)          # line 22
    text = edit("duty: party_congress", "duty: nobody", text)                # line 24
    text = edit("{name: 不合格, max: 90}", "{name: 不合格, max: 80}", text)   # line 28
    found = issues_of(text)
    assert [issue.split(": ")[0] for issue in found] == [
        "t.yaml:5:3", "t.yaml:10:16", "t.yaml:22:16", "t.yaml:24:17", "t.yaml:27:23",
    ]
    assert "[80, 90) 不属于任何等级" in found[-1]


def test_file_errors_name_the_path_as_given_and_store_the_base_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(edit("frequency: quarterly", "frequency: weekly"), encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_rule_set_file(path)
    assert str(caught.value.issues[0]).startswith(f"{path}:9:16: ")
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    loaded = load_rule_set_file(good)
    assert loaded.file_name == "good.yaml" and loaded.clause("congress").startswith("good.yaml:19 ")


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(BASE.encode("gbk"))
    with pytest.raises(RuleSetError) as caught:
        load_rule_set_file(path)
    assert "UTF-8" in caught.value.issues[0].message


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_rule_set_file(tmp_path / "nope.yaml")


def test_empty_text_and_wrong_top_level_shape() -> None:
    assert issues_of("") == ["t.yaml:1:1: 文件为空：应有 rule_set、duties、scoring 三部分"]
    assert issues_of("- a\n- b\n") == ["t.yaml:1:1: 应为映射（键: 值），实际为 ['a', 'b']"]


def test_examples_must_name_known_items_grades_and_earlier_examples() -> None:
    text = BASE + (
        "examples:\n"                                                   # 28
        "  - name: 一\n"                                                # 29
        "    based_on: 二\n"                                            # 30
        "    metrics: {party_congress: {owed: 4, on_time: 4, late: 0, missed: 0, pending: 0, excused: 0}}\n"
        "    expect: {grade: 良好, items: {nothing: 1}}\n"              # 32
    )
    assert issues_of(text) == [
        "t.yaml:30:15: based_on 须指向前面已有的示例，没有名为“二”的示例",
        "t.yaml:32:21: 未定义的等级 良好（等级有：不合格、优秀）",
        "t.yaml:32:33: 未定义的条目 nothing（条目有：congress）",
    ]
