"""JSON API of the accounts domain: the caller, their API tokens, memberships and staff."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts import selectors, services
from anwang.accounts.choices import Permission
from anwang.accounts.models import ApiToken, Membership, User
from anwang.accounts.roles import ROLE_PERMISSIONS
from anwang.accounts.schemas import (
    CommunityRolesOut,
    MembershipIn,
    MembershipOut,
    MeOut,
    MePatch,
    StaffIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)
from anwang.core.api_helpers import request_scope

router = Router(tags=["accounts"])
PAGE_SIZE = 50


def _caller(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every route here needs authentication
    return user


def _me_out(request: HttpRequest) -> MeOut:
    user = _caller(request)
    scope = request_scope(request)
    communities = [
        CommunityRolesOut(
            community_id=community_id,
            name=name,
            roles=[role.value for role in roles],
            permissions=sorted(
                {permission.value for role in roles for permission in ROLE_PERMISSIONS[role]}
            ),
        )
        for community_id, name, roles in selectors.user_summary(scope)
    ]
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        preferred_language=user.preferred_language,
        large_text=user.large_text,
        totp_enabled=user.totp_enabled,
        is_platform_admin=scope.is_platform_admin,
        is_staff_member=scope.is_staff_member,
        token_community_id=scope.token_community_id,
        communities=communities,
    )


@router.get("/me", response=MeOut, summary="The caller, with roles and permissions")
def me(request: HttpRequest) -> MeOut:
    """The caller's account, roles per community and the permissions they grant."""
    return _me_out(request)


@router.patch("/me", response=MeOut, summary="Change the caller's preferences")
def me_update(request: HttpRequest, payload: MePatch) -> MeOut:
    """Display name, language and large text of the caller."""
    user = _caller(request)
    services.user_preferences_update(
        actor=user,
        user=user,
        display_name=payload.display_name,
        language=payload.language,
        large_text=payload.large_text,
    )
    return _me_out(request)


@router.get("/tokens", response=list[TokenOut], summary="The caller's API tokens")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def token_list(request: HttpRequest) -> list[ApiToken]:
    """The caller's own tokens, newest first, revoked ones included."""
    return selectors.api_tokens_of(request_scope(request))  # type: ignore[return-value]


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create an API token")
def token_create(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    """A new token for the caller; its secret is in this response only."""
    user = _caller(request)
    token, raw = services.api_token_create(
        actor=user,
        user=user,
        name=payload.name,
        community_id=payload.community_id,
        within_community_id=request_scope(request).token_community_id,
    )
    return Status(
        201,
        TokenCreatedOut(
            id=token.pk,
            name=token.name,
            prefix=token.prefix,
            community_id=token.community_id,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            token=raw,
        ),
    )


@router.delete("/tokens/{token_id}", response=TokenOut, summary="Revoke an API token")
def token_revoke(request: HttpRequest, token_id: int) -> ApiToken:
    """Revoke one of the caller's own tokens; anyone else's is not found."""
    token = selectors.api_token_get(request_scope(request), token_id)
    return services.api_token_revoke(actor=_caller(request), token=token)


@router.get("/memberships", response=list[MembershipOut], summary="Memberships")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def membership_list(
    request: HttpRequest, community_id: int | None = None, q: str = ""
) -> list[Membership]:
    """The caller's own memberships and all memberships of communities where the caller
    manages staff; optionally one community, searched by name or email."""
    return selectors.memberships_visible(  # type: ignore[return-value]
        request_scope(request), community_id=community_id, q=q
    )


@router.post("/memberships", response={201: MembershipOut}, summary="Give a role")
def membership_create(request: HttpRequest, payload: MembershipIn) -> Status[Membership]:
    """Give a staff or volunteer role to someone who already belongs to the community."""
    scope = request_scope(request)
    person = selectors.community_member_by_id(scope, payload.community_id, payload.user_id)
    membership = services.staff_membership_grant(
        actor=_caller(request),
        community_id=payload.community_id,
        user=person,
        role=payload.role.value,
    )
    return Status(201, membership)


@router.delete("/memberships/{membership_id}", response={204: None}, summary="Take a role away")
def membership_delete(request: HttpRequest, membership_id: int) -> Status[None]:
    """Take a staff or volunteer role away in a community the caller manages."""
    membership = selectors.staff_membership_get(request_scope(request), membership_id)
    services.staff_membership_revoke(actor=_caller(request), membership=membership)
    return Status(204, None)


@router.post("/staff", response={201: MembershipOut}, summary="Create a staff account")
def staff_create(request: HttpRequest, payload: StaffIn) -> Status[Membership]:
    """A new account with a staff or volunteer role in a community the caller manages."""
    request_scope(request).require(Permission.MANAGE_STAFF, payload.community_id)
    membership = services.staff_account_create(
        actor=_caller(request),
        community_id=payload.community_id,
        username=payload.username,
        password=payload.password,
        role=payload.role.value,
        display_name=payload.display_name,
        email=payload.email,
    )
    return Status(201, membership)
