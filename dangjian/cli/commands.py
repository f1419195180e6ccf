"""Importing this module registers every command."""
from dangjian.cli import admin, demo_cmd, flows_cmd, tasks_cmd  # noqa: F401
