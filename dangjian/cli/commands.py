"""Importing this module registers every command."""
from dangjian.cli import help_text  # noqa: F401  (help texts wrap at 80 columns)

# isort: off
# Registration order is the order `dangjian --help` lists the commands in, so these stay
# in this order rather than sorted.
from dangjian.cli import admin, demo_cmd, flows_cmd, inputs_cmd, tasks_cmd  # noqa: F401
from dangjian.cli import review_cmd  # noqa: F401
from dangjian.cli import member_cmd  # noqa: F401
from dangjian.cli import web_cmd  # noqa: F401
from dangjian.cli import chase_cmd, serve_cmd  # noqa: F401
from dangjian.cli import targets_cmd  # noqa: F401
from dangjian.cli import development_cmd  # noqa: F401
from dangjian.cli import audit_cmd, db_cmd  # noqa: F401
# isort: on
