"""An account's sizing policy over the API: ``GET``/``PUT /api/v1/accounts/{id}/sizing``.

The policy sizes signals that carry no quantity (``alphintra.signals.sizing``). It comes
from the configuration's ``sizing`` setting until a ``PUT`` replaces it; the ``PUT`` is
journaled (so it survives a restart) and audited with the old and new policy.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field

from alphintra.api.auth import Principal, requires
from alphintra.api.schemas import ApiModel
from alphintra.security import Permission
from alphintra.service.errors import InvalidRequestError
from alphintra.signals.sizing import SizingError, SizingPolicy, sizing_policy_to_mapping
from alphintra.signals.sizing_book import policy_from_mapping

_POLICY_EXAMPLE = {"kind": "fractional_kelly", "max_percent_of_equity": "5", "fraction": "0.25"}


class SizingPolicyBody(ApiModel):
    """An account's sizing policy; ``policy`` null means none (signals without a
    quantity are then rejected with ``NO_SIZING_POLICY``)."""

    policy: dict[str, Any] | None = Field(
        description=(
            "The policy in the configuration's form: kind fixed_quantity (quantity), "
            "fixed_notional (notional), percent_of_equity (percent), confidence_scaled "
            "(base: a fixed_notional or percent_of_equity policy; min_confidence) or "
            "fractional_kelly (max_percent_of_equity; fraction, default 0.25). Numbers "
            "as decimal strings or integers, never floats."
        ),
        examples=[_POLICY_EXAMPLE],
    )


class SizingPolicyView(SizingPolicyBody):
    """The sizing policy in force for an account."""

    account_id: str = Field(alias="accountId")


AccountPath = Annotated[str, Path(alias="accountId", min_length=1, max_length=128)]


Reader = Annotated[Principal, Depends(requires(Permission.READ))]
RiskOfficer = Annotated[Principal, Depends(requires(Permission.MANAGE_RISK))]


def _view(account_id: str, policy: SizingPolicy | None) -> SizingPolicyView:
    return SizingPolicyView(
        accountId=account_id,
        policy=None if policy is None else sizing_policy_to_mapping(policy),
    )


def sizing_router() -> APIRouter:
    """Return the routes of the sizing policy."""
    router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])

    @router.get("/{accountId}/sizing", response_model=SizingPolicyView)
    async def get_sizing(
        account_id: AccountPath, who: Reader, request: Request
    ) -> SizingPolicyView:
        service = request.app.state.context.portal.service
        runtime = service.account(account_id, who.accounts)
        return _view(account_id, runtime.settings.sizing)

    @router.put("/{accountId}/sizing", response_model=SizingPolicyView)
    async def put_sizing(
        account_id: AccountPath, body: SizingPolicyBody, who: RiskOfficer, request: Request
    ) -> SizingPolicyView:
        service = request.app.state.context.portal.service
        service.account(account_id, who.accounts)  # 404 before a bad body is looked at
        try:
            policy = policy_from_mapping(body.policy, "policy")
        except SizingError as exc:
            raise InvalidRequestError("INVALID_SIZING_POLICY", str(exc)) from None
        old = await service.set_sizing(account_id, who.accounts, policy)
        stored = _view(account_id, policy)
        await service.audit(
            account_id,
            actor=who.user_id,
            action="account.sizing",
            address=request.client.host if request.client else "unknown",
            target=account_id,
            old_value=json.dumps(_view(account_id, old).policy),
            new_value=json.dumps(stored.policy),
        )
        return stored

    return router
