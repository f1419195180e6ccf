"""Unexpected errors: the user sees a short Chinese message with an error id; the traceback
goes, under that id, to DANGJIAN_LOG_DIR/errors.log (default .dangjian/logs/errors.log in the
working directory, beside Prefect's default home)."""
from __future__ import annotations

import os
import secrets
import traceback
from pathlib import Path


def error_log_path() -> Path:
    return Path(os.environ.get("DANGJIAN_LOG_DIR") or Path(".dangjian") / "logs") / "errors.log"


def log_unexpected(error: BaseException, context: str) -> tuple[str, str]:
    """Append the traceback under a fresh error id. Returns (id, Chinese note saying where it
    was written, or why it could not be)."""
    from dangjian.clock import now_utc

    error_id = secrets.token_hex(4)
    path = error_log_path()
    text = "".join(traceback.format_exception(error))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"--- {error_id} {now_utc().isoformat()} {context}\n{text}\n")
        return error_id, f"详情已记入 {path.resolve()}"
    except OSError as failed:
        return error_id, f"未能写入错误日志 {path}（{failed.strerror or failed}）"


def describe_unexpected(error: BaseException, error_id: str, where: str) -> str:
    return (f"内部错误（编号 {error_id}，{type(error).__name__}）：操作未完成。{where}；"
            "报告问题时请附上此编号。")
