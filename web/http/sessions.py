"""Admin page sessions: a signed, expiring cookie instead of the Bearer token in the browser.

Logging in with the admin token sets `jaxabot_admin` (HttpOnly, SameSite=Strict, Secure over
https, Path=/): `base64url(json {sid, name, exp}) . base64url(HMAC-SHA256)`, keyed by a key
derived from JAXABOT_ADMIN_TOKEN, so changing the token ends every session and nothing is stored
server-side but the sessions logged out before they expire. Every form carries a CSRF token,
HMAC(key, sid), checked in constant time; the cookie's SameSite=Strict is the second line.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass

from web.http.security import token_matches

COOKIE = "jaxabot_admin"
MAX_NAME_CHARS = 40
_NAME_OK = re.compile(r"[^\w .@'-]+", re.UNICODE)


@dataclass(frozen=True)
class Session:
    sid: str
    name: str
    expires: int  # unix seconds

    @property
    def who(self) -> str:
        """How the audit log names this editor."""
        return f"session {self.sid[:8]}" + (f" ({self.name})" if self.name else "")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def clean_editor_name(raw: str | None) -> str:
    return _NAME_OK.sub("", (raw or "").strip())[:MAX_NAME_CHARS].strip()


class Sessions:
    def __init__(self, admin_token: str, minutes: int) -> None:
        self._token = admin_token
        self._key = hmac.new(admin_token.encode("utf-8"), b"jaxabot admin session v1", hashlib.sha256).digest()
        self.seconds = max(60, int(minutes * 60))
        self._revoked: dict[str, int] = {}  # sid → expiry, until it would have expired anyway
        self._lock = threading.Lock()

    def token_ok(self, given: str) -> bool:
        return token_matches(given, self._token)

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest())

    def issue(self, name: str = "", now: float | None = None) -> tuple[str, Session]:
        session = Session(sid=secrets.token_hex(16), name=clean_editor_name(name),
                          expires=int((now or time.time()) + self.seconds))
        payload = json.dumps({"sid": session.sid, "name": session.name, "exp": session.expires},
                             ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return f"{_b64(payload)}.{self._sign(payload)}", session

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie proves, or None (missing, forged, expired, logged out)."""
        if not cookie or len(cookie) > 1024 or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        try:
            payload = _unb64(body)
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(self._sign(payload).encode(), signature.encode()):
            return None
        try:
            data = json.loads(payload)
            session = Session(sid=str(data["sid"]), name=clean_editor_name(data.get("name")),
                              expires=int(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        now = now or time.time()
        if session.expires <= now:
            return None
        with self._lock:
            if session.sid in self._revoked:
                return None
        return session

    def revoke(self, session: Session, now: float | None = None) -> None:
        now = now or time.time()
        with self._lock:
            self._revoked = {sid: exp for sid, exp in self._revoked.items() if exp > now}
            self._revoked[session.sid] = session.expires

    def csrf(self, session: Session) -> str:
        return self._sign(b"csrf:" + session.sid.encode("ascii"))

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf(session).encode(), str(given).encode("utf-8"))
