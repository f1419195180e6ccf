"""`import_org`: the organisation tree and rosters from CSV and xlsx, all or nothing."""
from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.errors import ValidationFailed
from dangjian.services.audit import verify_chain
from dangjian.services.org_import import import_org
from dangjian.services.roster_format import MEMBER_COLUMNS, UNIT_COLUMNS, make_id_number
from models import Area, AuditEvent, Member, MemberCategory, MemberStatus, Unit, UnitKind

UNITS = [
    ["D1", "样例县", "区县", "", "", "", ""],
    ["S1", "城关街道党工委", "街道", "D1", "", "是", ""],
    ["C1", "东关社区", "社区", "S1", "城区", "", "1"],
    ["B1", "东关社区党支部", "党支部", "C1", "", "", ""],
    ["G1", "第一党小组", "党小组", "B1", "", "", ""],
    ["C2", "苏武社区", "社区", "S1", "建制镇", "", "2"],
    ["B2", "苏武社区党支部", "党支部", "C2", "", "", ""],
]


def person(mid: str, birth: str, seq: int, unit: str = "B1", group: str = "", *, gender: str = "",
           category: str = "在职", status: str = "正式党员", joined: str = "2010-07-01",
           full: str = "2011-07-01", name: str = "") -> list[str]:
    """A valid member row; `seq` odd for men, even for women (as in the ID number)."""
    number = make_id_number("620621", date.fromisoformat(birth), seq)
    gender = gender or ("男" if seq % 2 else "女")
    return [mid, name or f"党员{mid}", gender, birth, number, unit, group, category, status, joined,
            "" if status == "预备党员" else full]


MEMBERS = [
    person("M1", "1980-03-04", 11, group="G1"),
    person("M2", "1975-11-30", 12, group="G1", category="离退休"),
    person("M3", "1999-02-28", 13, status="预备党员", joined="2025-06-01"),
    person("M4", "1988-08-08", 14, unit="B2", category="居民"),
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, bom: bool = True) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def files(tmp_path: Path, units: list[list[str]] | None = None,
          members: list[list[str]] | None = None) -> list[Path]:
    out = []
    if units is not None:
        out.append(write_csv(tmp_path / "units.csv", UNIT_COLUMNS, units))
    if members is not None:
        out.append(write_csv(tmp_path / "members.csv", MEMBER_COLUMNS, members))
    return out


def with_cell(row: list[str], column: str, value: str) -> list[str]:
    out = list(row)
    out[MEMBER_COLUMNS.index(column)] = value
    return out


def unit(session: Session, uid: str) -> Unit:
    found = session.get(Unit, uid)
    assert found is not None, uid
    return found


def member(session: Session, mid: str) -> Member:
    found = session.get(Member, mid)
    assert found is not None, mid
    return found


def counts(session: Session) -> list[int]:
    return [session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (Unit, Member, AuditEvent)]


def failure(session: Session, paths: list[Path]) -> list[str]:
    """Run an import that must fail; return its details after checking nothing was written."""
    before = counts(session)
    with pytest.raises(ValidationFailed) as caught:
        import_org(session=session, paths=paths, actor="测试")
    assert counts(session) == before
    assert caught.value.message == f"导入失败：{len(caught.value.details)} 处错误，未写入任何数据"
    return caught.value.details


def test_import_builds_the_tree_with_paths_depths_and_inherited_area(
        session: Session, tmp_path: Path) -> None:
    report = import_org(session=session, paths=files(tmp_path, UNITS, MEMBERS), actor="测试")

    assert (report.units_added, report.members_added) == (7, 4)
    g1 = unit(session, "G1")
    assert g1.path == "/D1/S1/C1/B1/G1/" and g1.depth == 4 and g1.kind == UnitKind.group
    assert g1.area == Area.urban                      # inherited from 东关社区
    assert unit(session, "B2").area == Area.town
    assert unit(session, "D1").area is None
    assert unit(session, "C2").sort_order == 2
    m3 = member(session, "M3")
    assert m3.status == MemberStatus.probationary and m3.full_on is None and m3.group_id is None
    assert member(session, "M2").category == MemberCategory.retired
    events = session.execute(select(AuditEvent.entity, AuditEvent.action)).all()
    assert len(events) == 11
    assert set(events) == {("unit", "unit.import_create"), ("member", "member.import_create")}


def test_blank_committee_is_decided_by_the_count_of_full_members(
        session: Session, tmp_path: Path) -> None:
    seven = [person(f"A{i}", "1970-01-01", 100 + i) for i in range(7)]
    six_and_one = [person(f"B{i}", "1971-01-01", 100 + i, unit="B2") for i in range(6)]
    six_and_one.append(person("B9", "2000-01-01", 101, unit="B2", status="预备党员",
                              joined="2025-03-01"))
    units = [row[:5] + (["否"] if row[0] == "B1" else row[5:6]) + row[6:] for row in UNITS]

    import_org(session=session, paths=files(tmp_path, units, seven + six_and_one), actor="测试")
    assert unit(session, "B1").has_committee is False   # 7 full, but 否 in the file wins
    assert unit(session, "B2").has_committee is False   # 6 full
    assert unit(session, "S1").has_committee is True

    # A members-only refresh: the 预备党员 converts, so B2 now has 7 full members.
    b9 = person("B9", "2000-01-01", 101, unit="B2", joined="2024-03-01", full="2025-03-01")
    report = import_org(session=session, paths=files(tmp_path, None, [b9]), actor="测试")
    assert report.members_updated == 1 and report.units_updated == 1
    assert unit(session, "B2").has_committee is True


BAD_CASES = {
    "unknown branch": (UNITS, MEMBERS + [person("M5", "1980-01-01", 21, unit="B9")],
                       ["members.csv 第6行 所在支部：B9 不存在（导入文件和数据库中都没有）"]),
    "branch that is a community": (UNITS, MEMBERS + [person("M5", "1980-01-01", 21, unit="C1")],
                                   ["members.csv 第6行 所在支部：C1 是社区，应填党支部的编码"]),
    "group of another branch": (
        UNITS, MEMBERS + [person("M5", "1980-01-01", 21, unit="B2", group="G1")],
        ["members.csv 第6行 党小组：G1 不属于所在支部 B2"]),
    "unknown parent": (UNITS + [["C3", "西关社区", "社区", "S9", "城区", "", ""]], MEMBERS,
                       ["units.csv 第9行 上级编码：S9 不存在（导入文件和数据库中都没有）"]),
    "parent of wrong kind": (UNITS + [["G2", "第二党小组", "党小组", "C1", "", "", ""]], MEMBERS,
                             ["units.csv 第9行 上级编码：党小组的上级应为党支部，但 C1 是社区"]),
    "missing parent": (UNITS + [["C3", "西关社区", "社区", "", "城区", "", ""]], MEMBERS,
                       ["units.csv 第9行 上级编码：不能为空：只有区县可以没有上级（社区的上级应为街道）"]),
    "duplicate unit id": (UNITS + [["B1", "重复支部", "党支部", "C2", "", "", ""]], MEMBERS,
                          ["units.csv 第9行 组织编码：B1 重复，units.csv 第5行 已有"]),
    "duplicate member id": (UNITS, MEMBERS + [person("M1", "1980-01-01", 21)],
                            ["members.csv 第6行 党员编号：M1 重复，members.csv 第2行 已有"]),
    "duplicate ID number": (UNITS, MEMBERS + [person("M5", "1980-03-04", 11)],
                            ["members.csv 第2行 身份证号：与members.csv 第6行重复",
                             "members.csv 第6行 身份证号：与members.csv 第2行重复"]),
    "ID number in scientific notation": (
        UNITS, MEMBERS + [with_cell(person("M5", "1980-01-01", 21), "身份证号", "6.20621198E+17")],
        ["members.csv 第6行 身份证号：身份证号被存成了数字，请把该列设为文本后重新导出"]),
    "ID number whose last digits Excel zeroed": (
        UNITS, MEMBERS + [with_cell(person("M5", "1990-01-01", 21), "身份证号", "620621199001011000")],
        ["members.csv 第6行 身份证号：身份证号被存成了数字，请把该列设为文本后重新导出"]),
    "ID number with a wrong check digit": (
        UNITS, MEMBERS + [with_cell(person("M5", "1990-01-01", 123), "身份证号", "620621199001011231")],
        ["members.csv 第6行 身份证号：校验位不对（按前17位应为 X），请核对号码"]),
    "old 15-digit ID number": (
        UNITS, MEMBERS + [with_cell(person("M5", "1990-01-01", 21), "身份证号", "620621900101123")],
        ["members.csv 第6行 身份证号：这是15位旧身份证号，请换成18位号码"]),
    "ID number of another birthday": (
        UNITS, MEMBERS + [with_cell(person("M5", "1990-01-01", 21), "出生日期", "1990-01-02")],
        ["members.csv 第6行 身份证号：号码中的出生日期 1990-01-01 与出生日期 1990-01-02 不一致"]),
    "ID number of the other gender": (UNITS, MEMBERS + [person("M5", "1990-01-01", 21, gender="女")],
                                      ["members.csv 第6行 身份证号：号码第17位表示男性，与性别“女”不一致"]),
    "bad dates": (UNITS, MEMBERS + [person("M5", "1980-01-01", 21, joined="2003-13-01",
                                           full="2004年7月1日")],
                  ["members.csv 第6行 入党日期：“2003-13-01”不是有效日期",
                   "members.csv 第6行 转正日期：日期格式应为 YYYY-MM-DD，实际为“2004年7月1日”"]),
    "unknown category": (UNITS, MEMBERS + [person("M5", "1980-01-01", 21, category="退伍军人")],
                         [("members.csv 第6行 人员类别：“退伍军人”不是可选值，可选：在职、离退休、下岗失业、流动、"
                           "个体私营、居民、学生、农民")]),
    "unknown unit kind": (UNITS + [["X1", "联合支部", "联合党支部", "C1", "", "", ""]], MEMBERS,
                          ["units.csv 第9行 组织类型：“联合党支部”不是可选值，可选：区县、街道、社区、党支部、党小组"]),
    "empty required cell": (UNITS, MEMBERS + [person("M5", "1980-01-01", 21, name=" ")],
                            ["members.csv 第6行 姓名：必填，不能为空"]),
    "joined before eighteen": (
        UNITS, MEMBERS + [person("M5", "1980-01-01", 21, joined="1997-12-31")],
        ["members.csv 第6行 入党日期：入党时未满18周岁"]),
    "probationary with a conversion date": (
        UNITS, MEMBERS + [with_cell(person("M5", "1980-01-01", 21), "党员状态", "预备党员")],
        ["members.csv 第6行 转正日期：预备党员还没有转正，应当留空"]),
    "cycle": (UNITS + [["S2", "甲街道", "街道", "S3", "", "", ""],
                       ["S3", "乙街道", "街道", "S2", "", "", ""]], MEMBERS,
              ["units.csv 第9行 上级编码：街道的上级应为区县，但 S3 是街道",
               "units.csv 第9行 上级编码：上级关系形成循环：S2 → S3 → S2",
               "units.csv 第10行 上级编码：街道的上级应为区县，但 S2 是街道"]),
}


@pytest.mark.parametrize("case", list(BAD_CASES), ids=list(BAD_CASES))
def test_a_bad_row_names_file_row_and_column_and_nothing_is_written(
        session: Session, tmp_path: Path, case: str) -> None:
    units, members, expected = BAD_CASES[case]
    assert failure(session, files(tmp_path, units, members)) == expected


def test_missing_columns_are_named(session: Session, tmp_path: Path) -> None:
    header = [c for c in MEMBER_COLUMNS if c not in ("身份证号", "人员类别")]
    path = tmp_path / "名册.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(header)
    assert failure(session, files(tmp_path, UNITS) + [path]) == ["名册.csv 第1行：缺少必填列：身份证号、人员类别"]


def test_every_problem_is_reported_at_once(session: Session, tmp_path: Path) -> None:
    members = MEMBERS + [person("M5", "1980-01-01", 21, unit="B9", category="退伍", status="党员")]
    details = failure(session, files(tmp_path, UNITS, members))
    assert [d.split("：")[0] for d in details] == [
        "members.csv 第6行 人员类别", "members.csv 第6行 党员状态", "members.csv 第6行 所在支部"]


def test_rows_with_cells_beyond_the_header_are_refused_with_file_and_line(
        session: Session, tmp_path: Path) -> None:
    members = [MEMBERS[0], MEMBERS[1] + ["多余"], MEMBERS[2], MEMBERS[3] + ["", "又多"]]
    assert failure(session, files(tmp_path, UNITS, members)) == [
        "members.csv 第3行：多出 1 个单元格（第12列），表头只有 11 列有列名",
        "members.csv 第5行：多出 1 个单元格（第13列），表头只有 11 列有列名"]


def test_a_clash_with_a_stored_member_or_unit_is_caught(session: Session, tmp_path: Path) -> None:
    import_org(session=session, paths=files(tmp_path, UNITS, MEMBERS), actor="测试")
    newcomer = person("M9", "1980-03-04", 11, unit="B2")            # M1's ID number
    stray = person("M8", "1980-01-01", 21, unit="C2")               # stored, but not a branch
    assert failure(session, files(tmp_path, None, [newcomer, stray])) == [
        "members.csv 第2行 身份证号：与已有党员 M1（党员M1）重复",
        "members.csv 第3行 所在支部：C2 是社区，应填党支部的编码",
    ]
    # Turning a stored branch into a community strands its group and members.
    assert failure(session, files(tmp_path, [["B1", "东关社区党支部", "社区", "S1", "", "", ""]])) == [
        "units.csv 第2行 组织类型：改为社区后，已有下级 G1（党小组）不能挂在它下面",
        "units.csv 第2行 组织类型：还有 3 名党员登记在 B1 下，不能改为社区",
    ]


def test_a_bad_members_file_keeps_a_good_units_file_out_too(
        session: Session, tmp_path: Path) -> None:
    members = MEMBERS + [person("M5", "1980-01-01", 21, unit="B9")]
    failure(session, files(tmp_path, UNITS, members))
    assert session.get(Unit, "D1") is None


def test_unreadable_files_are_reported_alone(session: Session, tmp_path: Path) -> None:
    undecodable = tmp_path / "utf16.csv"
    undecodable.write_bytes(b"\xff\xfe\x00\xd8")
    other = write_csv(tmp_path / "other.csv", ["编号", "名称"], [["1", "x"]])
    members = write_csv(tmp_path / "members.csv", MEMBER_COLUMNS, MEMBERS)   # units never read
    assert failure(session, [undecodable, other, tmp_path / "old.xls", members]) == [
        (f"{undecodable}：无法识别的文件编码（既不是 UTF-8 也不是 GBK/GB18030），"
         "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”"),
        "other.csv 第1行（表头）：认不出文件类型，组织文件应有“组织编码”列，党员文件应有“党员编号”列",
        f"文件不存在：{tmp_path / 'old.xls'}",
    ]


def test_a_gbk_file_from_excel_imports(session: Session, tmp_path: Path) -> None:
    units = write_csv(tmp_path / "units.csv", UNIT_COLUMNS, UNITS, bom=False)
    units.write_bytes(units.read_text(encoding="utf-8").encode("gbk"))
    members = write_csv(tmp_path / "members.csv", MEMBER_COLUMNS, MEMBERS)
    report = import_org(session=session, paths=[units, members], actor="测试")
    assert (report.units_added, report.members_added) == (7, 4)


def test_csv_without_bom_and_files_in_any_order_import(session: Session, tmp_path: Path) -> None:
    members = write_csv(tmp_path / "a.csv", MEMBER_COLUMNS, MEMBERS, bom=False)
    units = write_csv(tmp_path / "b.csv", UNIT_COLUMNS, UNITS, bom=False)
    report = import_org(session=session, paths=[members, units], actor="测试")
    assert (report.units_added, report.members_added) == (7, 4)


def _workbook(path: Path, members: list[list[object]]) -> Path:
    wb = Workbook()
    units_sheet = wb.active
    units_sheet.title = "组织机构"
    units_sheet.append(UNIT_COLUMNS)
    for row in UNITS:
        units_sheet.append([(int(v) if v else None) if c == 6 else v for c, v in enumerate(row)])
    roster = wb.create_sheet("党员名册")
    roster.append(MEMBER_COLUMNS)
    for row in members:
        roster.append(row)
    wb.create_sheet("说明").append(["这张表不导入"])
    wb.save(path)
    return path


def _as_excel_types(row: list[str]) -> list[object]:
    """Dates as date cells, as Excel users type them."""
    return [datetime.fromisoformat(v) if c in (3, 9, 10) and v else v for c, v in enumerate(row)]


def test_xlsx_with_both_sheets_imports(session: Session, tmp_path: Path) -> None:
    path = _workbook(tmp_path / "名册.xlsx", [_as_excel_types(r) for r in MEMBERS])
    report = import_org(session=session, paths=[path], actor="测试")
    assert (report.units_added, report.members_added) == (7, 4)
    assert member(session, "M1").birth_date == date(1980, 3, 4)
    assert unit(session, "C2").sort_order == 2


def test_xlsx_id_number_stored_as_a_number_is_refused(session: Session, tmp_path: Path) -> None:
    rows = [_as_excel_types(r) for r in MEMBERS]
    rows[2][4] = int(str(rows[2][4]))   # a numeric cell: Excel keeps 15 significant digits
    path = _workbook(tmp_path / "名册.xlsx", rows)
    assert failure(session, [path]) == [
        "名册.xlsx（党员名册） 第4行 身份证号：身份证号被存成了数字，请把该列设为文本后重新导出"]


def test_reimport_updates_in_place_moves_subtrees_and_audits(
        session: Session, tmp_path: Path) -> None:
    import_org(session=session, paths=files(tmp_path, UNITS, MEMBERS), actor="测试")
    # A second street takes over 东关社区 (its branch and group follow without being listed);
    # M2 is renamed; M1 and M4 swap ID numbers (a correction).
    units = [["S2", "新城街道党工委", "街道", "D1", "", "", ""], ["C1", "东关社区", "社区", "S2", "城区", "", "1"]]
    members = [list(r) for r in MEMBERS]
    members[1][1] = "王秀英"
    members[0][4], members[3][4] = MEMBERS[3][4], MEMBERS[0][4]
    members[0][2:4], members[3][2:4] = MEMBERS[3][2:4], MEMBERS[0][2:4]

    report = import_org(session=session, paths=files(tmp_path, units, members), actor="组织部")

    assert (report.units_added, report.units_updated, report.units_unchanged) == (1, 3, 0)
    assert (report.members_added, report.members_updated, report.members_unchanged) == (0, 3, 1)
    assert unit(session, "G1").path == "/D1/S2/C1/B1/G1/"
    assert member(session, "M2").name == "王秀英"
    assert member(session, "M1").id_number == MEMBERS[3][4]
    assert counts(session)[:2] == [8, 4]
    moved = session.execute(select(AuditEvent).where(
        AuditEvent.entity_id == "C1", AuditEvent.action == "unit.import_update")).scalar_one()
    assert moved.actor == "组织部"
    assert moved.before == {"parent_id": "S1", "path": "/D1/S1/C1/"}
    assert moved.after == {"parent_id": "S2", "path": "/D1/S2/C1/"}
    renamed = session.execute(select(AuditEvent).where(
        AuditEvent.entity_id == "M2", AuditEvent.action == "member.import_update")).scalar_one()
    assert (renamed.before, renamed.after) == ({"name": "党员M2"}, {"name": "王秀英"})
    # A descendant the file never mentioned still gets its own event.
    assert session.execute(select(func.count()).select_from(AuditEvent)
                           .where(AuditEvent.entity_id == "G1")).scalar_one() == 2

    assert verify_chain(session) == []

    again = import_org(session=session, paths=files(tmp_path, units, members), actor="组织部")
    assert (again.units_updated, again.members_updated, again.members_unchanged) == (0, 0, 4)


def test_xlsx_with_only_a_roster_sheet_refreshes_members(session: Session, tmp_path: Path) -> None:
    import_org(session=session, paths=files(tmp_path, UNITS, MEMBERS), actor="测试")
    wb = Workbook()
    sheet = wb.active
    sheet.title = "党员名册"
    sheet.append([])                      # a blank first row: the header is the first non-empty one
    sheet.append(MEMBER_COLUMNS)
    sheet.append(with_cell(MEMBERS[3], "人员类别", "离退休"))
    wb.save(tmp_path / "更新.xlsx")

    report = import_org(session=session, paths=[tmp_path / "更新.xlsx"], actor="测试")
    assert (report.members_updated, report.units_updated, report.units_added) == (1, 0, 0)
    assert member(session, "M4").category == MemberCategory.retired
