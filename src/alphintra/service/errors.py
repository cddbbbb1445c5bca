"""The errors the trading service refuses requests with; each carries its HTTP status.

Raised by `alphintra.service.trading.TradingService` (and importable from there); the
API answers them as RFC 9457 problems with ``status`` and ``code``.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses. ``status`` is the HTTP status the API answers."""

    status = 400

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class NotFoundError(ServiceError):
    """The thing does not exist, or belongs to another tenant (never tell which)."""

    status = 404


class ConflictError(ServiceError):
    """The request conflicts with the current state (an order already closed)."""

    status = 409


class AccountUnavailableError(ServiceError):
    """The account stopped after a storage failure; it resumes after a restart (replay)."""

    status = 503


class InvalidRequestError(ServiceError):
    """The request is well-formed but semantically wrong (a price off the tick)."""

    status = 422
