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


class StateError(CaselibError):
    """The authoring database (users, drafts, reviews, audit) cannot be opened or upgraded."""


class AuthRequired(CaselibError):
    """Not signed in, or the name and password do not match (HTTP 401)."""


class TooManyAttempts(CaselibError):
    """Too many failed sign-ins for one name within a minute (HTTP 429)."""

    def __init__(self, message: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)


class NotFound(CaselibError):
    """A draft, case, user or version that does not exist (HTTP 404)."""

    def __init__(self, field: str | None, message: str):
        self.field = field
        super().__init__(message)


class InvalidInput(CaselibError):
    """A value the caller sent is unusable (a slug like ../x, an unknown role): HTTP 422 with the field."""

    def __init__(self, field: str | None, message: str):
        self.field = field
        super().__init__(message)


class Conflict(CaselibError):
    """A stale save: someone saved the draft or the case file since this copy was read (HTTP 409).
    Carries both texts so the editor can show them side by side."""

    def __init__(self, field: str, message: str, current_text: str | None = None, current_version: int | None = None,
                 your_text: str | None = None):
        self.field, self.current_text, self.current_version, self.your_text = field, current_text, current_version, your_text
        super().__init__(message)


class DraftInvalid(CaselibError):
    """A draft submitted or approved with problems left (HTTP 422 with the problems)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(f"草稿还有 {len(self.problems)} 处问题，改完才能提交审核：{self.problems[0].message if self.problems else ''}")


class ImportFailed(CaselibError):
    """A file handed to `caselib import` cannot be read as a Word (.docx) report: another
    format, damaged, empty or too large. The message names the file and how to save it as .docx."""
