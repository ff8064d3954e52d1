"""Unit tests of the authentication building blocks: access tokens, refresh tokens, bcrypt
passwords and the security-relevant settings. No database is needed here.

`FORGED_TOKENS` is shared with tests/api/auth/test_auth.py, which sends the same tokens over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt as real_bcrypt
import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from graphql_api.auth import passwords, tokens
from graphql_api.db.models import Role
from graphql_api.errors import FieldErrors, RateLimited
from graphql_api.settings import (
    DEFAULT_QR_SECRET_KEY,
    DEFAULT_SECRET_KEY,
    Settings,
    SettingsError,
)
from tests.conftest import TEST_ENV, make_settings

SECRET = TEST_ENV["SECRET_KEY"]
OTHER_SECRET = "another-secret-key-that-is-long-enough-0123456789"
ISSUER = "inventory-auth"
AUDIENCE = "inventory-api"
MISSING = object()


def claims(user_id: uuid.UUID, version: int = 1, **overrides: Any) -> dict[str, Any]:
    """Valid access-token claims for `user_id`; an override of MISSING removes the claim."""
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": str(user_id),
        "role": "STUDENT",
        "ver": version,
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
    }
    for name, value in overrides.items():
        if value is MISSING:
            values.pop(name, None)
        else:
            values[name] = value
    return values


def sign(payload: dict[str, Any], key: str = SECRET, algorithm: str = "HS256", **headers: Any) -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers or None)


def sign_hs512(payload: dict[str, Any]) -> str:
    """HS512 with the right key: a different algorithm than the pinned one (the key is short
    for HS512, which pyjwt warns about; irrelevant for a token that must be refused)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return sign(payload, algorithm="HS512")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def valid_token(user_id: uuid.UUID, version: int = 1) -> str:
    return sign(claims(user_id, version))


TokenBuilder = Callable[[uuid.UUID, int], str]

# Each builder returns a token that must be refused although it names a real, active user
# with the right token version (so nothing but the forgery can explain a rejection).
FORGED_TOKENS: dict[str, TokenBuilder] = {
    "alg_none": lambda u, v: jwt.encode(claims(u, v), None, algorithm="none"),
    "alg_none_hand_made": lambda u, v: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims(u, v))}.",
    "alg_none_with_signature_kept": lambda u, v: (
        _b64({"alg": "none", "typ": "JWT"}) + "." + valid_token(u, v).split(".", 1)[1]
    ),
    "hs512_same_key": lambda u, v: sign_hs512(claims(u, v)),
    "wrong_key": lambda u, v: sign(claims(u, v), key=OTHER_SECRET),
    "missing_exp": lambda u, v: sign(claims(u, v, exp=MISSING)),
    "expired": lambda u, v: sign(claims(u, v, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
    "not_yet_valid": lambda u, v: sign(claims(u, v, nbf=int(time.time()) + 3600)),
    "wrong_audience": lambda u, v: sign(claims(u, v, aud="some-other-api")),
    "missing_audience": lambda u, v: sign(claims(u, v, aud=MISSING)),
    "wrong_issuer": lambda u, v: sign(claims(u, v, iss="evil-issuer")),
    "issuer_prefix": lambda u, v: sign(claims(u, v, iss="inventory")),
    "missing_issuer": lambda u, v: sign(claims(u, v, iss=MISSING)),
    "missing_jti": lambda u, v: sign(claims(u, v, jti=MISSING)),
    "missing_ver": lambda u, v: sign(claims(u, v, ver=MISSING)),
    "missing_sub": lambda u, v: sign(claims(u, v, sub=MISSING)),
    "missing_iat": lambda u, v: sign(claims(u, v, iat=MISSING)),
    "missing_role": lambda u, v: sign(claims(u, v, role=MISSING)),
    "unknown_role": lambda u, v: sign(claims(u, v, role="ROOT")),
    "sub_not_uuid": lambda u, v: sign(claims(u, v, sub="1 OR 1=1")),
    "ver_not_int": lambda u, v: sign(claims(u, v, ver="one")),
    "crit_header": lambda u, v: sign(claims(u, v), crit=["x-custom"], **{"x-custom": 1}),
    "signature_with_bangs": lambda u, v: valid_token(u, v) + "!!!!",
    "signature_truncated": lambda u, v: valid_token(u, v)[:-4],
    "payload_swapped": lambda u, v: ".".join(
        [valid_token(u, v).split(".")[0], _b64(claims(u, v, role="ADMIN_GENERAL")), valid_token(u, v).split(".")[2]]
    ),
    "two_segments": lambda u, v: valid_token(u, v).rsplit(".", 1)[0],
    "garbage": lambda u, v: "not.a.jwt",
    "oversized": lambda u, v: sign(claims(u, v, pad="x" * 5000)),
}


@pytest.fixture(name="token_settings")
def _token_settings() -> Settings:
    return make_settings()


# ---- access tokens ---------------------------------------------------------------------------


def test_issued_token_round_trips(token_settings: Settings) -> None:
    user_id = uuid.uuid4()
    now = datetime.now(UTC).replace(microsecond=0)
    token, expires = tokens.issue_access_token(
        token_settings, user_id=user_id, role=Role.SUPERVISOR, token_version=7, now=now
    )
    assert expires == now + timedelta(seconds=900)
    decoded = tokens.decode_access_token(token_settings, token)
    assert decoded is not None
    assert decoded.user_id == user_id
    assert decoded.role is Role.SUPERVISOR
    assert decoded.token_version == 7
    assert decoded.expires_at == expires
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    raw = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    assert set(raw) == {"sub", "role", "ver", "iat", "exp", "iss", "aud", "jti"}
    assert raw["exp"] - raw["iat"] == 15 * 60


def test_every_token_gets_its_own_jti(token_settings: Settings) -> None:
    user_id = uuid.uuid4()
    jtis = set()
    for _ in range(5):
        token, _ = tokens.issue_access_token(token_settings, user_id=user_id, role=Role.STUDENT, token_version=1)
        decoded = tokens.decode_access_token(token_settings, token)
        assert decoded is not None
        jtis.add(decoded.jti)
    assert len(jtis) == 5


def test_hand_crafted_valid_token_is_accepted(token_settings: Settings) -> None:
    """The control for the forgery table: the builders' base token is itself valid."""
    user_id = uuid.uuid4()
    decoded = tokens.decode_access_token(token_settings, valid_token(user_id, 3))
    assert decoded is not None
    assert (decoded.user_id, decoded.token_version, decoded.role) == (user_id, 3, Role.STUDENT)


@pytest.mark.parametrize("name", sorted(FORGED_TOKENS))
def test_forged_tokens_are_rejected(token_settings: Settings, name: str) -> None:
    token = FORGED_TOKENS[name](uuid.uuid4(), 1)
    assert tokens.decode_access_token(token_settings, token) is None


def test_token_signed_for_another_deployment_is_rejected() -> None:
    mine = make_settings()
    theirs = make_settings(SECRET_KEY=OTHER_SECRET)
    token, _ = tokens.issue_access_token(theirs, user_id=uuid.uuid4(), role=Role.STUDENT, token_version=1)
    assert tokens.decode_access_token(theirs, token) is not None
    assert tokens.decode_access_token(mine, token) is None


def test_token_of_another_audience_setting_is_rejected() -> None:
    other = make_settings(JWT_AUDIENCE="reports-api")
    token, _ = tokens.issue_access_token(other, user_id=uuid.uuid4(), role=Role.STUDENT, token_version=1)
    assert tokens.decode_access_token(make_settings(), token) is None


@pytest.mark.parametrize("value", ["", " ", "Bearer", "a" * 5000])
def test_empty_or_huge_strings_are_rejected(token_settings: Settings, value: str) -> None:
    assert tokens.decode_access_token(token_settings, value) is None


def test_small_leeway_only(token_settings: Settings) -> None:
    """Expired 5 s ago is within the 10 s clock-skew leeway; 60 s ago is not."""
    user_id = uuid.uuid4()
    now = int(time.time())
    recent = sign(claims(user_id, iat=now - 900, exp=now - 5))
    old = sign(claims(user_id, iat=now - 900, exp=now - 60))
    assert tokens.decode_access_token(token_settings, recent) is not None
    assert tokens.decode_access_token(token_settings, old) is None


# ---- refresh tokens --------------------------------------------------------------------------


def test_refresh_tokens_are_random_and_hashed() -> None:
    values = {tokens.new_refresh_token() for _ in range(50)}
    assert len(values) == 50
    sample = next(iter(values))
    assert len(sample) >= 43  # 32 random bytes, url-safe base64
    digest = tokens.hash_refresh_token(sample)
    assert digest == tokens.hash_refresh_token(sample)
    assert len(digest) == 64
    assert sample not in digest
    assert tokens.hash_refresh_token(sample + "x") != digest


def test_refresh_token_hash_accepts_any_text() -> None:
    # Lone surrogates cannot be encoded as UTF-8; hashing must still not raise.
    assert len(tokens.hash_refresh_token("\ud800")) == 64


# ---- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("", ["field.password_too_short"]),
        ("a" * 7, ["field.password_too_short"]),
        ("é" * 3 + "a", ["field.password_too_short"]),  # 4 characters, 7 bytes
        ("a" * 8, []),
        ("é" * 4, []),  # 4 characters, 8 bytes
        ("a" * 72, []),
        ("é" * 36, []),  # 72 bytes
        ("a" * 73, ["field.password_too_long"]),
        ("é" * 37, ["field.password_too_long"]),  # 37 characters, 74 bytes
        ("😀" * 18 + "a", ["field.password_too_long"]),  # 19 characters, 73 bytes
    ],
)
def test_password_rules_count_utf8_bytes(password: str, codes: list[str]) -> None:
    errors = FieldErrors()
    passwords.check_password_rules(password, errors, "newPassword")
    assert [(e.field, e.code) for e in errors.errors] == [("newPassword", code) for code in codes]


async def test_hash_and_verify() -> None:
    stored = await passwords.hash_password("Correct-Horse-9", 4)
    assert stored.startswith("$2b$04$")
    assert await passwords.verify_password("Correct-Horse-9", stored, 4) is True
    assert await passwords.verify_password("correct-horse-9", stored, 4) is False
    assert await passwords.verify_password("", stored, 4) is False


async def test_hash_of_72_byte_password_verifies_and_73_does_not() -> None:
    password = "é" * 36
    stored = await passwords.hash_password(password, 4)
    assert await passwords.verify_password(password, stored, 4) is True
    # bcrypt >= 5 raises on > 72 bytes; the wrapper answers False instead of raising, and a
    # longer password sharing the first 72 bytes is not accepted (no silent truncation).
    assert await passwords.verify_password(password + "a", stored, 4) is False
    assert await passwords.verify_password("é" * 37, stored, 4) is False


async def test_verify_with_no_stored_hash_is_false() -> None:
    assert await passwords.verify_password("Correct-Horse-9", None, 4) is False
    assert await passwords.verify_password("dummy-password-for-timing", None, 4) is False


@pytest.mark.parametrize("stored", ["", "not-a-hash", "$2b$04$short"])
async def test_verify_with_corrupt_stored_hash_is_false(stored: str) -> None:
    assert await passwords.verify_password("Correct-Horse-9", stored, 4) is False


class CountingBcrypt:
    """Stands in for the bcrypt module; records every checkpw and hashpw call."""

    def __init__(self) -> None:
        self.checks: list[bytes] = []
        self.hashes: list[bytes] = []

    def checkpw(self, password: bytes, hashed: bytes) -> bool:
        self.checks.append(hashed)
        return real_bcrypt.checkpw(password, hashed)

    def hashpw(self, password: bytes, salt: bytes) -> bytes:
        self.hashes.append(salt)
        return real_bcrypt.hashpw(password, salt)

    def gensalt(self, rounds: int = 12) -> bytes:
        return real_bcrypt.gensalt(rounds)


async def test_every_failure_path_runs_one_bcrypt_check_at_the_configured_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counting = CountingBcrypt()
    monkeypatch.setattr(passwords, "bcrypt", counting)
    stored = await passwords.hash_password("Correct-Horse-9", 4)
    cases = [
        ("Correct-Horse-9", stored, True),  # right password
        ("Wrong-Horse-99", stored, False),  # wrong password
        ("Correct-Horse-9", None, False),  # unknown user
        ("a" * 73, stored, False),  # too long for bcrypt
        ("é" * 37, None, False),
    ]
    for password, hashed, expected in cases:
        before = len(counting.checks)
        assert await passwords.verify_password(password, hashed, 4) is expected
        assert len(counting.checks) == before + 1, password
    costs = {check.split(b"$")[2] for check in counting.checks}
    assert costs == {b"04"}


def test_needs_rehash() -> None:
    low = real_bcrypt.hashpw(b"x" * 8, real_bcrypt.gensalt(4)).decode()
    assert passwords.needs_rehash(low, 4) is False
    assert passwords.needs_rehash(low, 5) is True
    assert passwords.needs_rehash("garbage", 4) is True


async def test_hashing_runs_off_the_event_loop() -> None:
    """A cost-12 hash takes ~0.3 s; the loop keeps serving other tasks meanwhile."""
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await passwords.hash_password("Correct-Horse-9", 10)
    done.set()
    await task
    assert ticks > 1


# ---- settings --------------------------------------------------------------------------------


def test_defaults_with_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.app_env == "development"
    assert settings.bcrypt_rounds == 12
    assert settings.access_token_ttl_seconds == 15 * 60
    assert settings.allow_self_registration is True
    assert settings.login_max_failures_per_account_and_ip == 5
    assert settings.login_max_failures_per_ip == 20
    assert settings.login_max_failures_per_account == 20
    assert settings.login_known_address_days == 30
    assert settings.register_max_per_ip == 30
    assert settings.register_window_seconds == 3600
    assert settings.cors_origins == ()
    assert settings.trusted_proxies == ()
    assert settings.secret_key == DEFAULT_SECRET_KEY


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({"APP_ENV": "production"})
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": DEFAULT_SECRET_KEY, "QR_SECRET_KEY": "q" * 40})


def test_production_refuses_the_default_qr_key() -> None:
    with pytest.raises(SettingsError, match="QR_SECRET_KEY"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "s" * 40, "QR_SECRET_KEY": DEFAULT_QR_SECRET_KEY})


def test_production_with_own_keys_starts_hardened() -> None:
    settings = Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "s" * 40, "QR_SECRET_KEY": "q" * 40})
    assert settings.is_production
    assert settings.graphql_ide is False
    assert settings.graphql_introspection is False
    assert settings.bcrypt_rounds == 12


@pytest.mark.parametrize("value", ["short", "x" * 31, "é" * 15])  # 5, 31 and 30 bytes
def test_secret_key_shorter_than_32_bytes_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY must be at least 32 bytes"):
        make_settings(SECRET_KEY=value)


def test_secret_key_of_exactly_32_bytes_is_accepted() -> None:
    assert make_settings(SECRET_KEY="k" * 32).secret_key == "k" * 32


def test_qr_key_must_differ_from_jwt_key() -> None:
    with pytest.raises(SettingsError, match="QR_SECRET_KEY must differ"):
        make_settings(SECRET_KEY="k" * 40, QR_SECRET_KEY="k" * 40)


@pytest.mark.parametrize("value", ["*", "https://a.example, *", " * "])
def test_wildcard_cors_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        make_settings(CORS_ORIGINS=value)


def test_explicit_cors_origins_are_kept() -> None:
    settings = make_settings(CORS_ORIGINS="https://a.example, https://b.example")
    assert settings.cors_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BCRYPT_ROUNDS", "3"),
        ("BCRYPT_ROUNDS", "twelve"),
        ("ALLOW_SELF_REGISTRATION", "maybe"),
        ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "0"),
        ("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP", "0"),
        ("LOGIN_KNOWN_ADDRESS_DAYS", "-1"),
        ("REGISTER_MAX_PER_IP", "0"),
        ("REGISTER_WINDOW_SECONDS", "0"),
        ("ACCESS_TOKEN_TTL_SECONDS", "5"),
    ],
)
def test_unsafe_or_malformed_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        make_settings(**{name: value})


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("TRUE", True), ("", True)])
def test_self_registration_flag(value: str, expected: bool) -> None:
    assert make_settings(ALLOW_SELF_REGISTRATION=value).allow_self_registration is expected


async def test_hashing_queue_is_bounded_and_refuses_beyond_it() -> None:
    """F19: a login flood waits for one hashing thread; beyond the queue it is refused at once."""
    release = threading.Event()

    def blocked() -> bool:
        release.wait(10)
        return True

    waiting = [asyncio.ensure_future(passwords._off_loop(blocked)) for _ in range(passwords.MAX_WAITING_HASHES)]
    await asyncio.sleep(0)
    with pytest.raises(RateLimited):
        await passwords._off_loop(blocked)
    release.set()
    assert await asyncio.gather(*waiting) == [True] * passwords.MAX_WAITING_HASHES
    # The slots are free again.
    assert await passwords.verify_password("x" * 8, None, 4) is False


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread nice is a Linux feature")
async def test_hashing_thread_runs_at_lower_priority_than_the_event_loop() -> None:
    """Logins take the CPU the event loop leaves: the hashing thread is niced, the loop is not."""
    loop_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    wanted = min(19, max(loop_nice, passwords._nice, 10))
    passwords.set_thread_nice(wanted)

    def own_nice() -> tuple[int, int]:
        tid = threading.get_native_id()
        return tid, os.getpriority(os.PRIO_PROCESS, tid)

    tid, nice = await passwords._off_loop(own_nice)
    assert tid != threading.get_native_id()
    assert nice == wanted
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_nice
    assert await passwords.verify_password("x" * 8, None, 4) is False


def test_hash_thread_nice_setting() -> None:
    assert make_settings().hash_thread_nice == 10
    assert make_settings(HASH_THREAD_NICE="0").hash_thread_nice == 0
    for bad in ("20", "-1", "low"):
        with pytest.raises(SettingsError):
            make_settings(HASH_THREAD_NICE=bad)
