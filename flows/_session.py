"""Each flow task opens its own session: a Session argument would break Prefect's input hashing."""
from __future__ import annotations

from dangjian.db import session_scope

__all__ = ["session_scope"]
