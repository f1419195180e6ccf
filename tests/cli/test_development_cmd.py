"""`dangjian develop …` as a branch secretary runs it."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import demo_county_with_cycle, run

BRANCH = "620621-01-01-ZB"          # 东关社区党支部 in the demo county
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(body: str = "62062119980421123") -> str:
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_county_with_cycle(tmp_path_factory.mktemp("develop-cli"))


def test_a_case_is_opened_recorded_refused_with_its_rule_and_shown(workdir: Path) -> None:
    opened = run("develop", "open", "--branch", BRANCH, "--name", "张晓明", "--id-number", id_number(),
                 "--applied-on", "2026-01-10", "--by", "王书记", cwd=workdir)
    assert opened.returncode == 0, opened.stderr
    assert "已建立发展党员档案 #1" in opened.stdout and "党组织派人谈话，2026-01-10 至 2026-02-10" in opened.stdout

    late = run("develop", "record", "1", "talk", "--on", "2026-02-19", cwd=workdir)
    assert late.returncode == 0, late.stderr
    assert "逾期 9" in late.stdout and "第七条" in late.stdout
    for step, on, extra in (("3", "2026-02-25", []), ("4", "2026-02-28", []),
                            ("指定培养联系人", "2026-02-28", ["--person", "王芳,李强"]),
                            ("activist_education", "2026-08-20", [])):
        done = run("develop", "record", "1", step, "--on", on, *extra, cwd=workdir)
        assert done.returncode == 0, done.stderr

    early = run("develop", "record", "1", "确定发展对象", "--on", "2026-10-25", cwd=workdir)
    assert early.returncode == 2
    assert "《中国共产党发展党员工作细则》第十三条" in early.stderr and "经过一年以上培养教育和考察" in early.stderr
    assert "最早可在 2027-02-25 登记" in early.stderr

    ambiguous = run("develop", "record", "1", "支部大会讨论", "--on", "2026-10-01", cwd=workdir)
    assert ambiguous.returncode == 2 and "有多个" in ambiguous.stderr

    shown = run("develop", "show", "1", cwd=workdir)
    assert shown.returncode == 0, shown.stderr
    assert "入党积极分子" in shown.stdout and "FZ000001" in shown.stdout and "第7步“确定发展对象”" in shown.stdout
    listed = run("develop", "list", "--branch", "620621", cwd=workdir)
    assert listed.returncode == 0 and "张晓明" in listed.stdout


def test_an_unknown_case_and_a_bad_identity_number_are_refused_in_chinese(workdir: Path) -> None:
    missing = run("develop", "show", "999", cwd=workdir)
    assert missing.returncode == 3 and "发展党员档案 #999 不存在" in missing.stderr
    bad = run("develop", "open", "--branch", BRANCH, "--name", "李华", "--id-number", "620621199804211230",
              "--applied-on", "2026-01-10", cwd=workdir)
    assert bad.returncode == 2 and "校验位不符" in bad.stderr
