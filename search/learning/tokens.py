"""Attempt tokens: what lets the server grade a quiz without trusting the browser.

``GET /api/quiz/{module}`` hands out the questions (no answers) and a token: the attempt's
id, the module, the question ids, the seed their options were drawn with, who it was
issued to and when, signed with HMAC-SHA256 under a per-install secret kept in the
database (table learning_keys, created on first use). The submission brings the token
back; the server checks the signature, then regenerates and grades the questions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from search.authoring.models import LearningKey
from search.errors import InvalidInput

MAX_AGE = 24 * 3600  # a quiz handed out yesterday is not graded: reopen it
KEY_NAME = "quiz"
RETRY = "重新打开测验页面再做一次"


@dataclass(frozen=True)
class Attempt:
    nonce: str
    module: str
    ids: tuple[str, ...]
    seed: int
    user_id: int  # 0: not signed in
    issued: float  # epoch seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest())


def new_attempt(secret: bytes, module: str, ids: list[str], seed: int, user_id: int, issued: float | None = None) -> tuple[Attempt, str]:
    a = Attempt(secrets.token_hex(16), module, tuple(ids), seed, user_id, time.time() if issued is None else issued)
    payload = {"n": a.nonce, "m": a.module, "q": list(a.ids), "s": a.seed, "u": a.user_id, "t": int(a.issued)}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return a, f"{body}.{_mac(secret, body)}"


def read_attempt(secret: bytes, token: str, now: float | None = None, max_age: int = MAX_AGE) -> Attempt:
    """The attempt a token stands for; InvalidInput (field attempt) when it was not issued by
    this install, was changed, or is too old."""
    body, _, mac = (token or "").strip().partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(secret, body)):
        raise InvalidInput("attempt", f"attempt 不是本站发出的测验编号，或被改动过 — {RETRY}")
    try:
        p = json.loads(_unb64(body))
        a = Attempt(str(p["n"]), str(p["m"]), tuple(str(x) for x in p["q"]), int(p["s"]), int(p["u"]), float(p["t"]))
    except (ValueError, KeyError, TypeError) as e:  # pragma: no cover - only a signed token gets here
        raise InvalidInput("attempt", f"attempt 无法读取 — {RETRY}") from e
    age = (time.time() if now is None else now) - a.issued
    if age > max_age:
        raise InvalidInput("attempt", f"这份测验是 {int(age // 3600)} 小时前打开的，已过期（{max_age // 3600} 小时内要交卷）— {RETRY}")
    return a


def peek(secret: bytes, token: str | None) -> Attempt | None:
    """The attempt of a token if it is genuine and current, else None (an advisory value)."""
    if not token:
        return None
    try:
        return read_attempt(secret, token)
    except InvalidInput:
        return None


def install_secret(s) -> bytes:
    """This install's signing key, created on first use (two servers racing agree: the
    second insert fails and both read the first)."""
    row = s.get(LearningKey, KEY_NAME)
    if row is None:
        try:
            with s.begin_nested():
                s.add(LearningKey(name=KEY_NAME, secret=secrets.token_hex(32)))
        except IntegrityError:
            pass
        row = s.get(LearningKey, KEY_NAME)
    return bytes.fromhex(row.secret)
