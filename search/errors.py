"""Domain exceptions. The core raises these; only the faces (cli.py, api.py, hooks)
translate them into exit codes, HTTP errors or build failures."""

from __future__ import annotations


class CaselibError(Exception):
    """Base class: the message is Chinese, user-facing, and says how to fix the problem."""


class CaseError(CaselibError):
    """One or more case files are invalid. Carries the problems so faces can list them all."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"案例校验未通过，共 {len(self.problems)} 处问题：\n{lines}")


class IndexMissing(CaselibError):
    """No usable index at the configured path."""


class IndexMismatch(CaselibError):
    """The index on disk was built with another model or format than the settings ask for."""


class ConfigError(CaselibError):
    """A setting (env var or config file) has an invalid value."""


class BuildError(CaselibError):
    """A stage of `caselib build` failed; the previous index and site are untouched."""
