"""Password hashes, bearer tokens and signed single-purpose tokens (calendar feeds, links)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from coordinator.errors import Unauthorized

_password_hash = PasswordHash((Argon2Hasher(),))
_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _password_hash.verify(password, password_hash)


def sign(
    secret: str, purpose: str, claims: dict[str, Any], *, now: datetime, expires_in: timedelta | None = None
) -> str:
    """A compact signed token bound to one purpose; a token for one purpose is refused for any other."""
    payload: dict[str, Any] = {**claims, "pur": purpose, "iat": int(now.timestamp())}
    if expires_in is not None:
        payload["exp"] = int((now + expires_in).timestamp())
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def verify(secret: str, purpose: str, token: str, *, now: datetime) -> dict[str, Any]:
    try:
        # Expiry is checked against our clock, not the wall clock, so frozen-time tests hold.
        payload: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"verify_exp": False, "verify_iat": False}
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized("凭证无效", "Invalid token", code="invalid_token") from exc
    if payload.get("pur") != purpose:
        raise Unauthorized("凭证用途不符", "Token is not valid for this purpose", code="invalid_token")
    expires = payload.get("exp")
    if isinstance(expires, int) and now.timestamp() >= expires:
        raise Unauthorized("凭证已过期", "Token has expired", code="token_expired")
    return payload
