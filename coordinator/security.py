"""Password hashes, bearer tokens and signed single-purpose tokens (calendar feeds, links)."""

from __future__ import annotations

import asyncio
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


# Argon2 takes about 100 ms of CPU by design; in a worker thread the event loop goes on serving
# other requests meanwhile (argon2-cffi releases the GIL while it hashes).
async def hash_password_off_loop(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_off_loop(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(verify_password, password, password_hash)


def sign(
    secret: str, purpose: str, claims: dict[str, Any], *, now: datetime, expires_in: timedelta | None = None
) -> str:
    """A compact signed token bound to one purpose; a token for one purpose is refused for any other."""
    payload: dict[str, Any] = {**claims, "pur": purpose, "iat": int(now.timestamp())}
    if expires_in is not None:
        payload["exp"] = int((now + expires_in).timestamp())
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def verify(secret: str, purpose: str, token: str, *, now: datetime, expiring: bool = True) -> dict[str, Any]:
    """The token's claims. ``expiring`` tokens must carry an integer ``exp``: one without it
    would never expire. Tokens of purposes that are revoked by a version instead (check-in codes,
    calendar feeds) pass ``expiring=False``."""
    try:
        # Expiry is checked against our clock, not the wall clock, so frozen-time tests hold.
        payload: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"verify_exp": False, "verify_iat": False}
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized("凭证无效", "Invalid token", code="invalid_token") from exc
    if payload.get("pur") != purpose:
        raise Unauthorized("凭证用途不符", "Token is not valid for this purpose", code="invalid_token")
    if not expiring:
        return payload
    expires = payload.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise Unauthorized("凭证无效", "Invalid token", code="invalid_token")
    if now.timestamp() >= expires:
        raise Unauthorized("凭证已过期", "Token has expired", code="token_expired")
    return payload
