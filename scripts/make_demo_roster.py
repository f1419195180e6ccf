"""Generate the demo county's roster: dangjian/demo/data/units.csv and members.csv.

    python scripts/make_demo_roster.py [--out DIR]

Deterministic (fixed seed, no clock): running it again writes byte-identical files,
which are committed. The figures are those of seed 002 (民勤县, 2005); see
dangjian/demo/__init__.py for the list. Ages are counted on REFERENCE_DATE
(2026-01-01). Files are UTF-8 with a BOM so that Excel opens the Chinese correctly.
"""
from __future__ import annotations

import argparse
import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dangjian.demo import DATA_DIR, REFERENCE_DATE
from dangjian.services.roster_format import (
    AREAS,
    CATEGORIES,
    GENDERS,
    MEMBER_COLUMNS,
    STATUSES,
    UNIT_COLUMNS,
    UNIT_KINDS,
    label_of,
    make_id_number,
)
from models import Area, Gender, MemberCategory, MemberStatus

SEED = 20050422            # the report's date
REGION = "620621"          # 民勤县
COUNTY, STREET = "620621", "620621-01"
IN_SERVICE, RETIRED = MemberCategory.in_service, MemberCategory.retired
LAID_OFF, RESIDENT = MemberCategory.laid_off, MemberCategory.resident
SELF_EMPLOYED = MemberCategory.self_employed

# (code, name, members, 党小组, 预备党员) in listing order. Branch sizes sum to 246 and 35.
URBAN = [("01", "东关社区", 48, 3, 1), ("02", "西关社区", 42, 3, 0), ("03", "南关社区", 38, 2, 1),
         ("04", "北关社区", 36, 2, 0), ("05", "新华社区", 32, 2, 1), ("06", "文化社区", 26, 0, 1),
         ("07", "胜利社区", 24, 0, 1)]
# Town branches 10–12 end with fewer than 7 正式党员, so no 支委会.
TOWN = [("08", "苏武社区", 9, 0, 0), ("09", "大坝社区", 8, 0, 1), ("10", "泉山社区", 7, 0, 1),
        ("11", "薛百社区", 6, 0, 0), ("12", "东湖社区", 5, 0, 0)]

# Urban members by (category, age band): the report's category totals (在职 46, 离退休 61,
# 居民 107, 下岗 32) crossed with its age totals (68 under 35, 125 over 60). The six
# retirees under 60 are women (retired at 50/55).
UNDER, MIDDLE, YOUNG_RETIRED, OVER = "under35", "36-59", "55-59", "over60"
URBAN_PROFILE = [(IN_SERVICE, UNDER, 30), (IN_SERVICE, MIDDLE, 16),
                 (LAID_OFF, UNDER, 8), (LAID_OFF, MIDDLE, 24),
                 (RETIRED, YOUNG_RETIRED, 6), (RETIRED, OVER, 55),
                 (RESIDENT, UNDER, 30), (RESIDENT, MIDDLE, 7), (RESIDENT, OVER, 70)]
URBAN_WOMEN = 84
# The report gives no split for the 35 town members: mostly 居民 and 离退休, a few others,
# all aged 36–59 so that the age figures hold for the county and for the 城区 alone.
TOWN_PROFILE = [(RESIDENT, MIDDLE, 20), (RETIRED, YOUNG_RETIRED, 7), (IN_SERVICE, MIDDLE, 4),
                (LAID_OFF, MIDDLE, 2), (SELF_EMPLOYED, MIDDLE, 2)]
TOWN_WOMEN = 8
AGES = {(UNDER, IN_SERVICE): (23, 34), (UNDER, LAID_OFF): (26, 34), (UNDER, RESIDENT): (22, 34),
        (MIDDLE, None): (36, 59), (YOUNG_RETIRED, None): (55, 59),
        (OVER, RETIRED): (61, 86), (OVER, RESIDENT): (61, 90)}
LAST_FULL_JOIN = date(2024, 6, 30)        # so every 正式党员 has converted by REFERENCE_DATE

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
            "程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶贺顾毛郝")
GIVEN = {  # (era, gender) → characters; an era is the birth decade's naming fashion
    ("old", Gender.male): "国建军明志文华平学德海永忠林福祥春生荣成贵兴宝山全发有仁义",
    ("old", Gender.female): "秀英兰玉珍芳桂花梅凤琴霞翠云香菊莲淑素彩娥",
    ("mid", Gender.male): "伟强刚勇宏斌涛磊峰军辉鹏东亮波剑勤晓红海俊",
    ("mid", Gender.female): "丽红霞艳燕萍娟敏静玲丹雪慧莉琳颖芳蓉晓梅",
    ("new", Gender.male): "浩宇轩博杰晨阳凯鑫睿泽昊然子涵一航天翔",
    ("new", Gender.female): "婷欣佳怡悦雯琪涵萱梓诗雨馨瑶思彤可妍",
}


@dataclass
class Person:
    category: MemberCategory
    band: str
    gender: Gender = Gender.male
    birth: date = REFERENCE_DATE
    name: str = ""
    id_number: str = ""
    status: MemberStatus = MemberStatus.full
    joined_on: date | None = None
    full_on: date | None = None
    group: str = ""


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _birth_for_age(rng: random.Random, age: int) -> date:
    """A birthday making the person exactly `age` on REFERENCE_DATE."""
    latest = _add_years(REFERENCE_DATE, -age)
    earliest = _add_years(REFERENCE_DATE, -age - 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))


def _people(rng: random.Random, profile: list[tuple[MemberCategory, str, int]], women: int,
            women_bands: tuple[str, ...] = ()) -> list[Person]:
    """Everyone of one area, shuffled; `women` of them women, all those in `women_bands` first."""
    people = [Person(cat, band) for cat, band, count in profile for _ in range(count)]
    must = [p for p in people if p.band in women_bands]
    rest = [p for p in people if p.band not in women_bands]
    for p in must + rng.sample(rest, women - len(must)):
        p.gender = Gender.female
    for p in people:
        low, high = AGES.get((p.band, p.category)) or AGES[(p.band, None)]
        p.birth = _birth_for_age(rng, rng.randint(low, high))
    rng.shuffle(people)
    return people


def _join_dates(rng: random.Random, p: Person) -> None:
    if p.status == MemberStatus.probationary:
        p.joined_on = date(2025, 3, 1) + timedelta(days=rng.randrange(270))
        return
    earliest = _add_years(p.birth, 18)
    latest = min(_add_years(p.birth, 45), LAST_FULL_JOIN)
    p.joined_on = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
    p.full_on = _add_years(p.joined_on, 1)


def _name(rng: random.Random, p: Person, taken: set[str]) -> str:
    era = "old" if p.birth.year < 1970 else "mid" if p.birth.year < 1990 else "new"
    chars = GIVEN[(era, p.gender)]
    while True:
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.75 else "")
        name = rng.choice(SURNAMES) + given
        if name not in taken and len(set(given)) == len(given):
            taken.add(name)
            return name


def _id_number(rng: random.Random, p: Person, taken: set[str]) -> str:
    while True:
        sequence = rng.randrange(0, 1000)
        if (sequence % 2 == 1) != (p.gender == Gender.male):
            sequence = (sequence + 1) % 1000
        number = make_id_number(REGION, p.birth, sequence)
        if number not in taken:
            taken.add(number)
            return number


def build() -> tuple[list[list[str]], list[list[str]]]:
    """Rows (without header) of units.csv and members.csv."""
    rng = random.Random(SEED)
    pools = {Area.urban: _people(rng, URBAN_PROFILE, URBAN_WOMEN, (YOUNG_RETIRED,)),
             Area.town: _people(rng, TOWN_PROFILE, TOWN_WOMEN)}
    units = [[COUNTY, "民勤县", "区县", "", "", "", "1"],
             [STREET, "三雷镇社区党总支", "街道", COUNTY, "", "是", "1"]]
    members: list[list[str]] = []
    names: set[str] = set()
    numbers: set[str] = set()
    ordinal = "一二三四五"
    for order, (area, (code, name, size, groups, probationary)) in enumerate(
            [(Area.urban, c) for c in URBAN] + [(Area.town, c) for c in TOWN], start=1):
        community, branch = f"{STREET}-{code}", f"{STREET}-{code}-ZB"
        units.append([community, name, "社区", STREET, label_of(AREAS, area), "", str(order)])
        units.append([branch, f"{name}党支部", "党支部", community, "", "", "1"])
        for g in range(groups):
            units.append([f"{branch}-{g + 1}", f"第{ordinal[g]}党小组", "党小组", branch,
                          "", "", str(g + 1)])
        people, pools[area] = pools[area][:size], pools[area][size:]
        # 预备党员: younger 在职/居民 members where there are some, else any 在职/居民.
        eligible = sorted((p for p in people if p.category in (IN_SERVICE, RESIDENT)),
                          key=lambda p: p.birth, reverse=True)
        for p in eligible[:probationary]:
            p.status = MemberStatus.probationary
        for i, p in enumerate(people):
            p.group = f"{branch}-{i % groups + 1}" if groups else ""
            _join_dates(rng, p)
            p.name = _name(rng, p, names)
            p.id_number = _id_number(rng, p, numbers)
        # sorted() is stable: the shuffled order is kept inside each group
        for p in sorted(people, key=lambda p: p.group):
            members.append([
                f"M{len(members) + 1:04d}", p.name, label_of(GENDERS, p.gender),
                p.birth.isoformat(), p.id_number, branch, p.group, label_of(CATEGORIES, p.category),
                label_of(STATUSES, p.status), p.joined_on.isoformat() if p.joined_on else "",
                p.full_on.isoformat() if p.full_on else "",
            ])
    assert all(not rest for rest in pools.values()), "branch sizes must use every member"
    assert {u[2] for u in units} <= set(UNIT_KINDS)
    return units, members


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write(out: Path) -> list[Path]:
    units, members = build()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    outputs = (("units.csv", UNIT_COLUMNS, units), ("members.csv", MEMBER_COLUMNS, members))
    for filename, header, rows in outputs:
        path = out / filename
        path.write_bytes(csv_bytes(header, rows))
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output directory")
    for path in write(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
