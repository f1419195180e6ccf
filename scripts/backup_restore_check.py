#!/usr/bin/env python3
"""Back up the business database and the evidence store, restore both elsewhere, and check
the restore: the same scorecard (JSON, byte for byte), the same audit chain, every evidence
file present with its sha256. See docs/operations.md.

    python3 dev.py python scripts/backup_restore_check.py --cycle 2026 [--keep DIR]

Reads DANGJIAN_DATABASE_URL and DANGJIAN_FILES_DIR like every command. PostgreSQL is
backed up with `pg_dump -Fc` and restored with `pg_restore` into a new database on the
same server (dropped afterwards unless --keep); SQLite with the online backup API.
Exit 0 when the restore matches, 1 when it does not, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


# Both readings of the scorecard at one instant, so "generated at" cannot differ.
FROZEN_NOW: dict[str, str] = {}


def dangjian(url: str, files: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DANGJIAN_DATABASE_URL": url, "DANGJIAN_FILES_DIR": str(files), "COLUMNS": "200",
           **FROZEN_NOW}
    return subprocess.run([sys.executable, "-m", "dangjian", *args], env=env, capture_output=True, text=True,
                          check=False)


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def backup_postgres(url: str, dump: Path) -> None:
    # A URL that pins a schema (options=-csearch_path=…) backs up that schema only.
    query = parse_qs(urlsplit(libpq_url(url)).query).get("options", [""])[0]
    schema = query.split("search_path=", 1)[1].split()[0] if "search_path=" in query else None
    only = ["-n", schema] if schema else []
    subprocess.run(["pg_dump", "-Fc", "--no-owner", *only, "-f", str(dump), "-d", libpq_url(url)], check=True)


def restore_postgres(url: str, dump: Path) -> tuple[str, str]:
    """Restore into a new database beside the original; (its URL, its name)."""
    parts = urlsplit(libpq_url(url))
    name = f"dangjian_restore_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    subprocess.run(["psql", "-q", "-d", admin, "-c", f'CREATE DATABASE "{name}"'], check=True)
    target = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)], check=True)
    return target, name


def drop_postgres(url: str, name: str) -> None:
    parts = urlsplit(libpq_url(url))
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    subprocess.run(["psql", "-q", "-d", admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False)


def backup_sqlite(path: Path, copy: Path) -> None:
    """The online backup API: consistent even while the application writes."""
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def evidence_problems(url: str, files: Path) -> list[str]:
    """Evidence rows whose stored file is missing or has another sha256."""
    from sqlalchemy import select

    from dangjian.db import make_engine
    from models import Evidence

    engine = make_engine(url)
    problems = []
    try:
        with engine.connect() as conn:
            for stored, digest in conn.execute(select(Evidence.stored_name, Evidence.sha256)):
                path = files / stored
                if not path.is_file():
                    problems.append(f"佐证材料缺失：{stored}")
                elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                    problems.append(f"佐证材料内容不符：{stored}")
    finally:
        engine.dispose()
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycle", required=True, help="考核周期编码：比较其评分表")
    parser.add_argument("--keep", type=Path, help="把备份文件留在这个目录")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from dangjian.clock import now_utc
    from dangjian.settings import get_settings

    FROZEN_NOW["DANGJIAN_NOW"] = now_utc().isoformat()
    settings = get_settings()
    url, files = settings.database_url, settings.files_dir.resolve()
    work = Path(tempfile.mkdtemp(prefix="dangjian-backup-"))
    restored_name = None
    try:
        before = dangjian(url, files, "scorecard", args.cycle, "--format", "json")
        if before.returncode != 0:
            print(f"[backup] 读取评分表失败：{before.stderr.strip()}", file=sys.stderr)
            return 2
        # 1. back up: the database, then the evidence store (files are content-addressed and
        #    never change, so copying them after the database is consistent).
        copy_files = work / "files"
        if settings.is_sqlite:
            db_path = settings.sqlite_path()
            assert db_path is not None
            backup_sqlite(db_path, work / "backup.db")
            restored_url = f"sqlite:///{work / 'backup.db'}"
        else:
            backup_postgres(url, work / "backup.dump")
        if files.is_dir():
            shutil.copytree(files, copy_files)
        else:
            copy_files.mkdir()
        # 2. restore into a new place
        if not settings.is_sqlite:
            restored_url, restored_name = restore_postgres(url, work / "backup.dump")
        # 3. compare
        after = dangjian(restored_url, copy_files, "scorecard", args.cycle, "--format", "json")
        verified = dangjian(restored_url, copy_files, "audit", "verify", "--by", "备份核验")
        problems = []
        if after.stdout != before.stdout:
            problems.append("恢复后的评分表（JSON）与原库不同")
        if verified.returncode != 0:
            problems.append("恢复后的审计日志核验未通过：" + verified.stderr.strip())
        problems += evidence_problems(restored_url, copy_files)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for item in work.iterdir():
                shutil.move(str(item), args.keep / item.name)
        for p in problems:
            print(f"[backup] {p}", file=sys.stderr)
        if problems:
            return 1
        size = len(before.stdout.encode())
        print(f"[backup] 恢复核对通过：评分表 {size} 字节逐字节相同，审计日志完整，佐证材料齐全")
        return 0
    finally:
        if restored_name:
            drop_postgres(url, restored_name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
