"""Who is calling: API keys for programs, JWT bearer tokens for people."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from alphintra.security import (
    InvalidCredentials,
    Permission,
    Role,
    decode_token,
    has_permission,
    parse_api_key,
    verify_api_key,
)

if TYPE_CHECKING:
    from alphintra.api.portal import Portal

API_KEY_PREFIX = "alp_"


class AuthError(Exception):
    """Authentication (401) or authorisation (403) failed."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and the accounts it may see."""

    user_id: str
    role: Role
    accounts: frozenset[str] | None
    """None for administrators, who see every account."""
    default_account: str | None

    def require(self, permission: Permission) -> None:
        """Raise 403 unless the caller's role grants ``permission``."""
        if not has_permission(self.role, permission):
            raise AuthError(
                403, "FORBIDDEN", f"role {self.role.value} may not {permission.value.lower()}"
            )

    def account_for(self, account_id: str | None) -> str:
        """Return the account a request targets: the one named, or the caller's default.

        An account the caller may not see answers 404, exactly as a missing one.
        """
        if account_id is None:
            if self.default_account is None:
                raise AuthError(
                    404, "ACCOUNT_NOT_FOUND", "no account given and the caller has none"
                )
            return self.default_account
        if self.accounts is not None and account_id not in self.accounts:
            raise AuthError(404, "ACCOUNT_NOT_FOUND", f"account {account_id!r} not found")
        return account_id


class Authenticator:
    """Checks API keys and JWTs against the directory."""

    def __init__(self, *, pepper: bytes, jwt_secret: str, cache_ttl_s: float = 5.0) -> None:
        self._pepper = pepper
        self._jwt_secret = jwt_secret
        self._ttl_ns = int(cache_ttl_s * 1e9)
        self._principals: dict[str, tuple[Principal, int]] = {}
        """user -> (role and accounts, expiry): a role change takes effect within the TTL."""

    async def authenticate(self, headers: Mapping[str, str], portal: Portal) -> Principal:
        """Return the caller, or raise 401."""
        api_key = headers.get("x-api-key")
        authorization = headers.get("authorization")
        token: str | None = None
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value:
                raise AuthError(401, "UNAUTHENTICATED", "Authorization must be 'Bearer <token>'")
            if value.startswith(API_KEY_PREFIX):
                api_key = value
            else:
                token = value
        if api_key:
            return self.from_api_key(api_key, portal)
        if token:
            return self.from_token(token, portal)
        raise AuthError(401, "UNAUTHENTICATED", "send an API key (X-API-Key) or a bearer token")

    def from_api_key(self, text: str, portal: Portal) -> Principal:
        """Authenticate an API key."""
        try:
            key_id, secret = parse_api_key(text)
        except InvalidCredentials as exc:
            raise AuthError(401, "INVALID_API_KEY", str(exc)) from None
        # The directory keeps active keys for a second or so (api_key_cache_ttl_s): a key
        # revoked through it is refused at once, one revoked elsewhere within that time.
        found = portal.key(key_id)
        if found is None:
            raise AuthError(401, "INVALID_API_KEY", f"API key {key_id} is unknown or revoked")
        user_id, key_hash = found
        now = time.monotonic_ns()
        if not verify_api_key(secret, key_hash, self._pepper):
            raise AuthError(401, "INVALID_API_KEY", f"API key {key_id} is unknown or revoked")
        return self._principal(user_id, portal, now)

    def _principal(self, user_id: str, portal: Portal, now: int) -> Principal:
        cached = self._principals.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        principal = portal.principal(user_id)
        self._principals[user_id] = (principal, now + self._ttl_ns)
        return principal

    def forget(self) -> None:
        """Drop every cached principal (after an account is created)."""
        self._principals.clear()

    def from_token(self, token: str, portal: Portal) -> Principal:
        """Authenticate a JWT."""
        try:
            claims = decode_token(token, self._jwt_secret)
        except InvalidCredentials as exc:
            raise AuthError(401, "INVALID_TOKEN", str(exc)) from None
        return self._principal(claims.subject, portal, time.monotonic_ns())


def requires(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """Return a FastAPI dependency: the caller (``app.state.context``'s authenticator),
    refused unless it has ``permission``."""

    async def check(request: Request) -> Principal:
        context = request.app.state.context
        who: Principal = await context.auth.authenticate(request.headers, context.portal)
        who.require(permission)
        return who

    return check
