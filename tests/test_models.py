from datetime import date

from sqlalchemy import func, select

from models import Gender, Member, MemberCategory, MemberStatus, Unit, UnitKind


def test_several_rows_with_enum_columns_insert_in_one_flush(session):
    """Enums are plain strings in the database: PostgreSQL must not cast to enum types."""
    session.add(Unit(id="E1", name="测试支部", kind=UnitKind.branch, path="/E1/"))
    session.flush()
    session.add_all([
        Member(id=f"EM{i}", name=f"党员{i}", gender=Gender.female, birth_date=date(1980, 1, 1),
               id_number=f"62062119800101{i:03d}X", unit_id="E1", category=MemberCategory.retired,
               status=MemberStatus.full)
        for i in range(3)
    ])
    session.flush()
    assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 3
    loaded = session.get(Member, "EM1")
    assert loaded.status == MemberStatus.full and loaded.status == "full"
