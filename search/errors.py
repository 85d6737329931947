"""Every domain exception of caselib, in one place. The core raises these; only the faces
(cli.py, server/, site/hooks.py) translate them into exit codes, HTTP errors or build
failures. Messages are Chinese, user-facing, and say how to fix the problem."""

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


class ModelError(CaselibError):
    """The encoder could not be loaded, converted or verified (embedded model, ONNX export,
    a backend's missing package). Not a settings problem unless the message says so."""


class QueryError(CaselibError):
    """The query or a filter is unusable; carries the field name for API errors."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class ForbiddenError(CaselibError):
    """The caller may not do this (HTTP 403)."""


class UnknownMarker(CaselibError):
    """A training page uses a <!-- caselib:NAME --> marker that no generator knows."""
