"""Access tokens (JWT HS256, 15 minutes) and opaque refresh tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from graphql_api.db.models import Role
from graphql_api.settings import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "role", "ver", "iat", "exp", "iss", "aud", "jti"]
LEEWAY_SECONDS = 10
_jwt = jwt.PyJWT(options={"enforce_minimum_key_length": True})
# Tokens already verified, by (secret, issuer, audience, token): a client sends the same token
# with every request for 15 minutes, and PyJWT's decode (base64 checks, HMAC, claim checks) was
# a quarter of a small request's time. The signature and the claims cannot change for the same
# bytes, so only the expiry is checked again; revocation is checked in the database on every
# request either way (token_version). Bounded; the oldest entries go first.
_VERIFIED: dict[tuple[str, str, str, str], AccessClaims] = {}
MAX_VERIFIED = 10_000


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    role: Role
    token_version: int
    expires_at: datetime
    jti: str


def issue_access_token(
    settings: Settings,
    *,
    user_id: uuid.UUID,
    role: Role,
    token_version: int,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(seconds=settings.access_token_ttl_seconds)
    claims = {
        "sub": str(user_id),
        "role": role.value,
        "ver": token_version,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": secrets.token_urlsafe(12),
    }
    token = _jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    return token, expires


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """The claims of a valid token, or None for anything forged, expired or malformed."""
    if not token or len(token) > 4096:
        return None
    key = (settings.secret_key, settings.jwt_issuer, settings.jwt_audience, token)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _decode(settings, token)
        if claims is None:
            return None
        while len(_VERIFIED) >= MAX_VERIFIED:
            del _VERIFIED[next(iter(_VERIFIED))]
        _VERIFIED[key] = claims
    if claims.expires_at.timestamp() + LEEWAY_SECONDS <= time.time():
        _VERIFIED.pop(key, None)
        return None
    return claims


def _decode(settings: Settings, token: str) -> AccessClaims | None:
    try:
        claims = _jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY_SECONDS,
        )
        return AccessClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            role=Role(claims["role"]),
            token_version=int(claims["ver"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            jti=str(claims["jti"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # Refresh tokens carry 256 random bits, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
