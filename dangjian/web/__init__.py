"""The web adapter: FastAPI pages for secretaries, reviewers, administrators and leaders,
and a JSON API; translates requests and errors, calls dangjian.services."""
from __future__ import annotations


def create_app(**kwargs):  # type: ignore[no-untyped-def]
    from dangjian.web.app import create_app as build

    return build(**kwargs)
