"""`caselib` command line. The group and the error translation are in base.py; the
commands are grouped by what they work on (commands.py: cases, index and search;
accounts.py: users and the audit log; imports.py: Word import). Heavy modules (torch,
sentence-transformers, faiss, SQLAlchemy) are imported inside the commands that need them,
so `check`, `new`, `gaps`, `user` and `--help` stay fast."""

from __future__ import annotations

from search.cli import accounts, commands, database, imports  # noqa: F401 - registers the commands on the group
from search.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="caselib")
