"""200 secretaries closing different tasks over HTTP at the same moment, on PostgreSQL.

    python3 dev.py python bench/bench_http_close.py [--clients 200] [--branches 50] [--workers 2] [--threads 40]

Starts a real `dangjian web` (uvicorn, N worker processes, each with DANGJIAN_WEB_THREADS
request threads and a connection pool of that size) against a scratch schema, releases all
clients at once, and prints throughput, p50/p95 latency, status counts and the database's
own count of reports: the goal is 0 errors, 0 lost, 0 duplicated writes. Needs
DANGJIAN_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.db import postgres_url
from tests.support.http_load import run_load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DANGJIAN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    url = postgres_url()
    assert url
    failed = False
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as logs:
            result = run_load(url, clients=args.clients, branches=args.branches, workers=args.workers,
                              threads=args.threads, logs=Path(logs))
        print(f"第 {run} 次：{result.summary()}", flush=True)
        clean = (result.statuses == {201: args.clients} and result.completions == args.clients
                 and result.links == args.clients and result.distinct_tasks == args.clients and result.chain_intact)
        if not clean:
            failed = True
            for line in result.errors[:10]:
                print("  ", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
