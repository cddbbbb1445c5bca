"""Security primitives: roles, API keys, passwords, JWTs, the credential vault, the secret guard.

Everything here is pure computation over values passed in: no web framework, no database,
no global configuration. The API layer authenticates with these functions; the app layer
loads the master key and runs :func:`check_secrets` before it starts serving.

Choices worth knowing:

* **API keys are hashed with HMAC-SHA256 under a server-side pepper, not a slow KDF.**
  A slow KDF (scrypt, bcrypt, PBKDF2) exists to make guessing low-entropy *passwords*
  expensive. An API key secret is 256 bits from :func:`secrets.token_urlsafe`; nobody
  can enumerate that space however fast the hash is, so slowing the hash buys nothing and
  would cost milliseconds on every request. The pepper (kept outside the database) means a
  leaked key table alone does not even allow checking a guessed key offline.
* **Passwords are hashed with scrypt** (n=2**14, r=8, p=1, 16-byte salt) in a
  self-describing string, so parameters can be raised later; see :func:`password_needs_rehash`.
* **JWTs are HS256 only.** The accepted algorithm is pinned (``algorithms=["HS256"]``) and
  the header is checked first, so ``none`` or HS512 tokens are rejected with a precise reason.
* **Credential blobs** are ``version (1 byte) || nonce (12 bytes) || ciphertext || tag
  (16 bytes)`` under AES-256-GCM. The version byte and the caller's associated data (the
  account id) are authenticated, so a blob cannot be moved to another account. Random
  96-bit nonces are safe far beyond the number of credentials one key will ever encrypt
  (the NIST bound is 2**32 messages per key).
* **Secrets never reach logs.** :class:`Secret`, :class:`MasterKey` and
  :class:`GeneratedApiKey` mask themselves in ``repr``, ``str`` and f-strings, and no error
  message in this module contains a token, key, password or plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Generic, NamedTuple, TypeVar

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class SecurityError(Exception):
    """Base class of every error raised by this module."""


class CredentialFailure(StrEnum):
    """Say why a presented credential was rejected."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ALGORITHM = "wrong_algorithm"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNKNOWN_ROLE = "unknown_role"


class InvalidCredentials(SecurityError):
    """Signal that a presented API key or token was rejected; never carries the credential."""

    def __init__(self, reason: CredentialFailure, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class CredentialDecryptionError(SecurityError):
    """Signal that a credential blob is malformed or failed authenticated decryption."""


class MasterKeyError(SecurityError, ValueError):
    """Signal that the master key configuration is unusable (names the source, never the key)."""


class PasswordHashFormatError(SecurityError, ValueError):
    """Signal that a stored password hash string is not in the expected scrypt format."""


class InsecureConfiguration(SecurityError):
    """Signal that the service must not start outside demo mode; lists every problem found."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("refusing to start outside demo mode: " + "; ".join(problems))
        self.problems = problems


def _clip(value: object, limit: int = 64) -> str:
    """Return a short repr of an untrusted, non-secret value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------
# Roles and permissions
# --------------------------------------------------------------------------------------


class Role(StrEnum):
    """Name what a user is allowed to be."""

    ADMIN = "admin"
    TRADER = "trader"
    RISK_OFFICER = "risk_officer"
    READ_ONLY = "read_only"


class Permission(StrEnum):
    """Name a group of operations guarded together."""

    READ = "read"
    """Read accounts, orders, fills, positions, P&L and the audit trail."""
    TRADE = "trade"
    """Submit signals and orders, cancel orders."""
    MANAGE_RISK = "manage_risk"
    """Change risk limits, trigger the emergency stop, resume trading."""
    MANAGE_ACCOUNTS = "manage_accounts"
    """Create accounts and set their broker credentials."""
    MANAGE_USERS = "manage_users"
    """Create users and API keys, change roles."""


ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = MappingProxyType(
    {
        Role.ADMIN: frozenset(Permission),
        Role.TRADER: frozenset({Permission.READ, Permission.TRADE}),
        Role.RISK_OFFICER: frozenset({Permission.READ, Permission.MANAGE_RISK}),
        Role.READ_ONLY: frozenset({Permission.READ}),
    }
)


def has_permission(role: Role, permission: Permission) -> bool:
    """Return whether ``role`` grants ``permission``."""
    return permission in ROLE_PERMISSIONS[role]


# --------------------------------------------------------------------------------------
# Masked secrets
# --------------------------------------------------------------------------------------

_SecretT = TypeVar("_SecretT", str, bytes)
_MASK: Final = "Secret('***')"


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


class Secret(Generic[_SecretT]):
    """Hold a credential so that ``repr``, ``str``, f-strings and logs show ``Secret('***')``.

    Call :meth:`reveal` at the one place the raw value is needed (an HTTP signature, a
    vault encryption). Equality is constant-time.
    """

    __slots__ = ("_value",)
    _value: _SecretT

    def __init__(self, value: _SecretT) -> None:
        self._value = value

    def reveal(self) -> _SecretT:
        """Return the raw value; never log or return it."""
        return self._value

    def __repr__(self) -> str:
        return _MASK

    def __str__(self) -> str:
        return _MASK

    def __format__(self, format_spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        mine: str | bytes = self._value
        theirs: str | bytes = other._value
        if isinstance(mine, str) != isinstance(theirs, str):
            return False
        return hmac.compare_digest(_as_bytes(mine), _as_bytes(theirs))

    def __hash__(self) -> int:
        return hash(self._value)


# --------------------------------------------------------------------------------------
# API keys
# --------------------------------------------------------------------------------------

API_KEY_PREFIX: Final = "alp_"
API_KEY_ID_LENGTH: Final = 12
API_KEY_SECRET_LENGTH: Final = 43
MIN_PEPPER_BYTES: Final = 32

_KEY_ID_BYTES: Final = 9  # token_urlsafe(9) is exactly 12 characters
_KEY_SECRET_BYTES: Final = 32  # token_urlsafe(32) is exactly 43 characters: 256 bits
_API_KEY_LENGTH: Final = len(API_KEY_PREFIX) + API_KEY_ID_LENGTH + 1 + API_KEY_SECRET_LENGTH
_URLSAFE_ALPHABET: Final = frozenset(string.ascii_letters + string.digits + "-_")


class GeneratedApiKey(NamedTuple):
    """Hold a new API key: show ``full_key`` to the user once, store ``key_id`` and ``key_hash``."""

    full_key: str
    key_id: str
    key_hash: str

    def __repr__(self) -> str:
        return (
            f"GeneratedApiKey(full_key='***', key_id={self.key_id!r}, key_hash={self.key_hash!r})"
        )


def _check_pepper(pepper: bytes) -> None:
    if len(pepper) < MIN_PEPPER_BYTES:
        raise ValueError(
            f"API key pepper must be at least {MIN_PEPPER_BYTES} bytes, got {len(pepper)}"
        )


def hash_api_key_secret(secret: str, pepper: bytes) -> str:
    """Return the hex HMAC-SHA256 of an API key secret under the server-side ``pepper``."""
    _check_pepper(pepper)
    return hmac.digest(pepper, secret.encode("utf-8"), "sha256").hex()


def generate_api_key(pepper: bytes) -> GeneratedApiKey:
    """Create a key ``alp_<key_id>_<secret>`` with a 12-character id and a 256-bit secret.

    The result unpacks as ``(full_key, key_id, key_hash)``. Only ``key_id`` and
    ``key_hash`` are stored; the full key is shown to its owner once.
    """
    key_id = secrets.token_urlsafe(_KEY_ID_BYTES)
    secret = secrets.token_urlsafe(_KEY_SECRET_BYTES)
    full_key = f"{API_KEY_PREFIX}{key_id}_{secret}"
    return GeneratedApiKey(full_key, key_id, hash_api_key_secret(secret, pepper))


def parse_api_key(text: str) -> tuple[str, str]:
    """Split a presented API key into ``(key_id, secret)``.

    Positions are fixed because both parts may themselves contain ``_``. Raise
    :class:`InvalidCredentials` (reason ``malformed``) describing what is wrong, without
    echoing the key.
    """
    if not text.startswith(API_KEY_PREFIX):
        raise InvalidCredentials(
            CredentialFailure.MALFORMED, f"API key must start with {API_KEY_PREFIX!r}"
        )
    if len(text) != _API_KEY_LENGTH:
        raise InvalidCredentials(
            CredentialFailure.MALFORMED,
            f"API key is {len(text)} characters long, expected {_API_KEY_LENGTH}",
        )
    id_end = len(API_KEY_PREFIX) + API_KEY_ID_LENGTH
    key_id, separator, secret = text[len(API_KEY_PREFIX) : id_end], text[id_end], text[id_end + 1 :]
    if separator != "_":
        raise InvalidCredentials(
            CredentialFailure.MALFORMED,
            f"API key must have '_' after the {API_KEY_ID_LENGTH}-character key id",
        )
    if not _URLSAFE_ALPHABET.issuperset(key_id):
        raise InvalidCredentials(
            CredentialFailure.MALFORMED, "API key id has characters outside [A-Za-z0-9_-]"
        )
    if not _URLSAFE_ALPHABET.issuperset(secret):
        raise InvalidCredentials(
            CredentialFailure.MALFORMED, "API key secret has characters outside [A-Za-z0-9_-]"
        )
    return key_id, secret


def verify_api_key(secret: str, key_hash: str, pepper: bytes) -> bool:
    """Return whether ``secret`` matches the stored ``key_hash``, comparing in constant time."""
    expected = hash_api_key_secret(secret, pepper).encode("ascii")
    return hmac.compare_digest(expected, key_hash.encode("utf-8"))


# --------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------

SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_SALT_BYTES: Final = 16
_PASSWORD_DIGEST_BYTES: Final = 32
_PASSWORD_SCHEME: Final = "scrypt"
# Bounds on parameters read back from storage, so a corrupted row cannot exhaust memory.
_MAX_SCRYPT_MEMORY: Final = 256 * 1024 * 1024
_MAX_SCRYPT_P: Final = 16


@dataclass(frozen=True, slots=True)
class _PasswordHash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """Hash ``password`` as ``scrypt$n$r$p$salt_b64$hash_b64`` with a fresh 16-byte salt."""
    if not password:
        raise ValueError("password is empty")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _PASSWORD_DIGEST_BYTES)
    return f"{_PASSWORD_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse_int(field: str, name: str) -> int:
    if not field.isascii() or not field.isdigit():
        raise PasswordHashFormatError(
            f"stored password hash parameter {name} must be a decimal integer, got {_clip(field)}"
        )
    return int(field)


def _parse_b64(field: str, name: str) -> bytes:
    try:
        return base64.b64decode(field, validate=True)
    except binascii.Error as exc:
        raise PasswordHashFormatError(
            f"stored password hash {name} is not valid base64: {exc}"
        ) from None


def _parse_password_hash(stored: str) -> _PasswordHash:
    fields = stored.split("$")
    if len(fields) != 6:
        raise PasswordHashFormatError(
            f"stored password hash has {len(fields)} '$'-separated fields, expected 6"
        )
    if fields[0] != _PASSWORD_SCHEME:
        raise PasswordHashFormatError(
            f"stored password hash scheme is {_clip(fields[0])}, expected {_PASSWORD_SCHEME!r}"
        )
    n, r, p = (_parse_int(fields[i], name) for i, name in ((1, "n"), (2, "r"), (3, "p")))
    if n < 2 or n & (n - 1) or r < 1 or not 1 <= p <= _MAX_SCRYPT_P:
        raise PasswordHashFormatError(
            f"stored password hash has invalid scrypt parameters n={n} r={r} p={p}"
        )
    if 128 * r * n > _MAX_SCRYPT_MEMORY:
        raise PasswordHashFormatError(
            f"stored password hash parameters n={n} r={r} need more than "
            f"{_MAX_SCRYPT_MEMORY // 2**20} MiB"
        )
    salt, digest = _parse_b64(fields[4], "salt"), _parse_b64(fields[5], "digest")
    if not salt or len(digest) < 16:
        raise PasswordHashFormatError(
            f"stored password hash salt is {len(salt)} bytes and digest {len(digest)} bytes; "
            "expected a non-empty salt and at least 16 digest bytes"
        )
    return _PasswordHash(n, r, p, salt, digest)


def verify_password(password: str, stored: str) -> bool:
    """Return whether ``password`` matches the ``stored`` scrypt hash, in constant time.

    Raise :class:`PasswordHashFormatError` if ``stored`` itself is malformed. When the
    user does not exist, verify against a hash of a random password anyway so response
    time does not reveal which user names exist.
    """
    parsed = _parse_password_hash(stored)
    candidate = _scrypt(password, parsed.salt, parsed.n, parsed.r, parsed.p, len(parsed.digest))
    return hmac.compare_digest(candidate, parsed.digest)


def password_needs_rehash(stored: str) -> bool:
    """Return whether ``stored`` uses parameters other than the current ones."""
    parsed = _parse_password_hash(stored)
    return (parsed.n, parsed.r, parsed.p, len(parsed.salt), len(parsed.digest)) != (
        SCRYPT_N,
        SCRYPT_R,
        SCRYPT_P,
        _SALT_BYTES,
        _PASSWORD_DIGEST_BYTES,
    )


# --------------------------------------------------------------------------------------
# JSON Web Tokens
# --------------------------------------------------------------------------------------

JWT_ALGORITHM: Final = "HS256"
MAX_TOKEN_LENGTH: Final = 8192
_REQUIRED_CLAIMS: Final = ("sub", "role", "iat", "exp", "jti")
_ROLE_VALUES: Final = frozenset(role.value for role in Role)
_ROLE_NAMES: Final = ", ".join(role.value for role in Role)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """Hold the verified claims of a token: ``sub``, ``role``, ``iat``, ``exp`` and ``jti``."""

    subject: str
    role: Role
    issued_at: int
    expires_at: int
    token_id: str


def issue_token(
    subject: str, role: Role, secret: str, ttl_s: int = 3600, now: int | None = None
) -> str:
    """Sign an HS256 token for ``subject`` with ``role``, valid for ``ttl_s`` seconds."""
    if not subject:
        raise ValueError("token subject is empty")
    if ttl_s <= 0:
        raise ValueError(f"token ttl_s must be positive, got {ttl_s}")
    if not secret:
        raise ValueError("JWT secret is empty")
    issued_at = int(time.time()) if now is None else now
    payload: dict[str, Any] = {
        "sub": subject,
        "role": Role(role).value,
        "iat": issued_at,
        "exp": issued_at + ttl_s,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def _malformed(detail: str) -> InvalidCredentials:
    return InvalidCredentials(CredentialFailure.MALFORMED, detail)


def _int_claim(payload: Mapping[str, Any], name: str) -> int:
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _malformed(f"token claim {name!r} must be an integer, got {type(value).__name__}")
    return value


def _str_claim(payload: Mapping[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise _malformed(f"token claim {name!r} must be a non-empty string")
    return value


def decode_token(
    token: str, secret: str, now: int | None = None, *, leeway_s: int = 0
) -> TokenClaims:
    """Verify an HS256 token and return its claims.

    Check, in order: shape, algorithm (only HS256), signature, required claims and their
    types, then times against ``now`` (default: the clock) with ``leeway_s`` of skew
    allowed. Raise :class:`InvalidCredentials` with the precise reason; the message never
    contains the token.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise _malformed(f"token is {len(token)} characters long, limit {MAX_TOKEN_LENGTH}")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise _malformed(f"token is not a well-formed JWT: {exc}") from None
    algorithm = header.get("alg")
    if algorithm != JWT_ALGORITHM:
        raise InvalidCredentials(
            CredentialFailure.WRONG_ALGORITHM,
            f"token algorithm is {_clip(algorithm)}, only {JWT_ALGORITHM!r} is accepted",
        )
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={
                "require": list(_REQUIRED_CLAIMS),
                # Times are checked below against an injectable clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidCredentials(
            CredentialFailure.BAD_SIGNATURE, "token signature does not match the JWT secret"
        ) from None
    except jwt.InvalidAlgorithmError as exc:
        raise InvalidCredentials(CredentialFailure.WRONG_ALGORITHM, str(exc)) from None
    except jwt.MissingRequiredClaimError as exc:
        raise _malformed(f"token lacks the required claim {exc.claim!r}") from None
    except jwt.InvalidTokenError as exc:
        raise _malformed(f"token was rejected: {exc}") from None

    subject = _str_claim(payload, "sub")
    token_id = _str_claim(payload, "jti")
    issued_at = _int_claim(payload, "iat")
    expires_at = _int_claim(payload, "exp")
    role_name = payload["role"]
    if not isinstance(role_name, str) or role_name not in _ROLE_VALUES:
        raise InvalidCredentials(
            CredentialFailure.UNKNOWN_ROLE,
            f"token role is {_clip(role_name)}, expected one of {_ROLE_NAMES}",
        )

    current = int(time.time()) if now is None else now
    if expires_at <= current - leeway_s:
        raise InvalidCredentials(
            CredentialFailure.EXPIRED, f"token expired at {expires_at}, now is {current}"
        )
    if issued_at > current + leeway_s:
        raise InvalidCredentials(
            CredentialFailure.NOT_YET_VALID,
            f"token issued at {issued_at}, which is after now ({current})",
        )
    if "nbf" in payload:
        not_before = _int_claim(payload, "nbf")
        if not_before > current + leeway_s:
            raise InvalidCredentials(
                CredentialFailure.NOT_YET_VALID,
                f"token not valid before {not_before}, now is {current}",
            )
    return TokenClaims(subject, Role(role_name), issued_at, expires_at, token_id)


# --------------------------------------------------------------------------------------
# Master key and credential vault
# --------------------------------------------------------------------------------------

MASTER_KEY_ENV: Final = "ALPHINTRA_MASTER_KEY"
MASTER_KEY_FILE_ENV: Final = "ALPHINTRA_MASTER_KEY_FILE"
MASTER_KEY_BYTES: Final = 32
_FINGERPRINT_CONTEXT: Final = b"alphintra/master-key-fingerprint/v1\x00"


class MasterKey:
    """Hold the 32-byte AES-256 key that encrypts broker credentials at rest.

    ``repr`` shows only a fingerprint (a truncated hash, safe to log) to tell keys apart.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != MASTER_KEY_BYTES:
            raise MasterKeyError(f"master key must be {MASTER_KEY_BYTES} bytes, got {len(key)}")
        self._key = bytes(key)

    @classmethod
    def generate(cls) -> MasterKey:
        """Create a master key from the operating system's random source."""
        return cls(secrets.token_bytes(MASTER_KEY_BYTES))

    @classmethod
    def from_base64(cls, text: str, *, source: str = "master key") -> MasterKey:
        """Decode standard base64 of 32 bytes; ``source`` names where it came from in errors."""
        stripped = text.strip()
        if not stripped:
            raise MasterKeyError(f"{source} is empty; expected base64 of {MASTER_KEY_BYTES} bytes")
        try:
            key = base64.b64decode(stripped, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MasterKeyError(
                f"{source} is not valid standard base64 ({exc}); "
                f"expected base64 of {MASTER_KEY_BYTES} random bytes"
            ) from None
        if len(key) != MASTER_KEY_BYTES:
            raise MasterKeyError(
                f"{source} decodes to {len(key)} bytes, expected {MASTER_KEY_BYTES}"
            )
        return cls(key)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MasterKey | None:
        """Load the key from ``ALPHINTRA_MASTER_KEY`` or the file named by ``..._FILE``.

        Return ``None`` when neither variable is set. Raise :class:`MasterKeyError` when
        both are set, or when the value or file is unusable.
        """
        inline = env.get(MASTER_KEY_ENV)
        path = env.get(MASTER_KEY_FILE_ENV)
        if inline is not None and path is not None:
            raise MasterKeyError(
                f"both {MASTER_KEY_ENV} and {MASTER_KEY_FILE_ENV} are set; set only one"
            )
        if inline is not None:
            return cls.from_base64(inline, source=f"environment variable {MASTER_KEY_ENV}")
        if path is None:
            return None
        if not path.strip():
            raise MasterKeyError(f"environment variable {MASTER_KEY_FILE_ENV} is set but empty")
        try:
            text = Path(path).read_text(encoding="ascii")
        except UnicodeDecodeError:
            raise MasterKeyError(
                f"master key file {path!r} (from {MASTER_KEY_FILE_ENV}) is not ASCII text; "
                f"expected base64 of {MASTER_KEY_BYTES} bytes"
            ) from None
        except OSError as exc:
            raise MasterKeyError(
                f"cannot read master key file {path!r} (from {MASTER_KEY_FILE_ENV}): "
                f"{exc.strerror or type(exc).__name__}"
            ) from None
        return cls.from_base64(
            text, source=f"master key file {path!r} (from {MASTER_KEY_FILE_ENV})"
        )

    def to_base64(self) -> str:
        """Return the key as base64, for writing a new key file; never log the result."""
        return _b64(self._key)

    @property
    def fingerprint(self) -> str:
        """Return 16 hex characters identifying this key, safe to log."""
        return hashlib.sha256(_FINGERPRINT_CONTEXT + self._key).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"MasterKey(fingerprint={self.fingerprint!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self.fingerprint)


VAULT_FORMAT_VERSION: Final = 1
_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16
_VERSION_PREFIX: Final = bytes([VAULT_FORMAT_VERSION])
_MIN_BLOB_BYTES: Final = 1 + _NONCE_BYTES + _TAG_BYTES


class CredentialVault:
    """Encrypt and decrypt broker credentials with AES-256-GCM under a :class:`MasterKey`.

    Blob format: ``version (1) || nonce (12) || ciphertext || tag (16)``. Pass the account
    id as ``associated_data`` so a blob only decrypts for the account it was made for.
    """

    __slots__ = ("_aead", "_fingerprint")

    def __init__(self, master_key: MasterKey) -> None:
        self._aead = AESGCM(master_key._key)
        self._fingerprint = master_key.fingerprint

    def __repr__(self) -> str:
        return f"CredentialVault(master_key_fingerprint={self._fingerprint!r})"

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``associated_data`` under a fresh random nonce."""
        if not associated_data:
            raise ValueError(
                "associated_data is empty; pass the account id so the blob is bound to it"
            )
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, _VERSION_PREFIX + associated_data)
        return _VERSION_PREFIX + nonce + sealed

    def decrypt(self, blob: bytes, associated_data: bytes) -> bytes:
        """Return the plaintext of ``blob``, or raise :class:`CredentialDecryptionError`.

        Decryption fails when the blob was altered, was made under another master key, or
        was made for other associated data (another account).
        """
        if len(blob) < _MIN_BLOB_BYTES:
            raise CredentialDecryptionError(
                f"credential blob is {len(blob)} bytes, shorter than the minimum {_MIN_BLOB_BYTES}"
            )
        if blob[0] != VAULT_FORMAT_VERSION:
            raise CredentialDecryptionError(
                f"credential blob has format version {blob[0]}, expected {VAULT_FORMAT_VERSION}"
            )
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, _VERSION_PREFIX + associated_data)
        except InvalidTag:
            raise CredentialDecryptionError(
                f"credential blob failed authentication for associated data "
                f"{_clip(associated_data)} under master key {self._fingerprint}: it was "
                "altered, encrypted under another master key, or made for another account"
            ) from None


# --------------------------------------------------------------------------------------
# Default-secret guard
# --------------------------------------------------------------------------------------

DEFAULT_DEMO_JWT_SECRET: Final = "alphintra-demo-jwt-secret-do-not-use-outside-demo-mode"
MIN_JWT_SECRET_LENGTH: Final = 32


def check_secrets(
    *, demo_mode: bool, jwt_secret: str, master_key: MasterKey | None
) -> tuple[str, ...]:
    """Return the secret-configuration problems found; raise if any exist outside demo mode.

    Problems: the JWT secret is the demo default or shorter than 32 characters, or no
    master key is configured. In demo mode the problems are returned for the caller to
    log as warnings; outside it :class:`InsecureConfiguration` lists them all.
    """
    problems: list[str] = []
    if jwt_secret == DEFAULT_DEMO_JWT_SECRET:
        problems.append("the JWT secret is the built-in demo default")
    elif len(jwt_secret) < MIN_JWT_SECRET_LENGTH:
        problems.append(
            f"the JWT secret is {len(jwt_secret)} characters long, "
            f"need at least {MIN_JWT_SECRET_LENGTH}"
        )
    if master_key is None:
        problems.append(f"no master key: set {MASTER_KEY_ENV} or {MASTER_KEY_FILE_ENV}")
    if problems and not demo_mode:
        raise InsecureConfiguration(tuple(problems))
    return tuple(problems)
