"""Publishing an approved draft: stamp the reviewer into the front matter, write
cases/<slug>.md atomically, and commit it when the project root is a Git work tree.

The file is written to a temporary name in cases/ (not *.md, so nothing reads it half
written), flushed to disk and renamed over the old one: a crash leaves the old case or
the new one, never a mix. The running server's watcher sees the new file and re-indexes it
and rebuilds the site (server/service.py)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
from datetime import date
from pathlib import Path

log = logging.getLogger("caselib.publish")
_FM_END = re.compile(r"^---\s*$", re.M)


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def stamp_review(text: str, reviewer: str, when: date) -> str:
    """Set reviewed_by / reviewed_at in the front matter (replacing earlier values)."""
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return text
    m = _FM_END.search(text, 4)
    if m is None:
        return text
    head = [ln for ln in text[4 : m.start()].split("\n") if not re.match(r"^reviewed_(by|at)\s*:", ln)]
    while head and not head[-1].strip():
        head.pop()
    head += [f"reviewed_by: {_yaml_scalar(reviewer)}", f'reviewed_at: "{when.isoformat()}"']
    return "---\n" + "\n".join(head) + "\n" + text[m.start():]


def _yaml_scalar(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_case(cases_dir: Path, slug: str, text: str) -> Path:
    cases_dir.mkdir(parents=True, exist_ok=True)
    final = cases_dir / f"{slug}.md"
    tmp = cases_dir / f".{slug}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text if text.endswith("\n") else text + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    return final


def git_commit(root: Path, path: Path, message: str, author: str, email: str) -> str | None:
    """Commit one file when root is a Git work tree; returns the commit id, None otherwise.
    A failing commit is logged, never fatal: the file is published either way."""
    def git(*args, **kw):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, **kw)

    try:
        inside = git("rev-parse", "--is-inside-work-tree")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    rel = os.path.relpath(path, root)
    env = {**os.environ, "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", "caselib"),
           "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", "caselib@localhost")}
    add = git("add", "--", rel, env=env)
    done = git("commit", "--no-verify", "-m", message, f"--author={author} <{email}>", "--", rel, env=env)
    if add.returncode != 0 or done.returncode != 0:
        log.warning("案例已发布，但 Git 提交失败：%s", (done.stderr or add.stderr).strip())
        return None
    return git("rev-parse", "HEAD").stdout.strip() or None
