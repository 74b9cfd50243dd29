"""Organizations, their members and invitations.

The organization a request acts in is chosen with the ``X-Phoenix-Organization``
header (see api/principal.py); here the organization is named in the path, and
the auth service checks the caller's role in it. An API key reaches only its
own organization, and only with the ``admin`` scope for changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from nats.aio.client import Client
from phoenix_contracts.identity import Done, Principal
from phoenix_contracts.organizations import (
    MAX_INVITATION_HOURS,
    AcceptInvitation,
    ChangeMemberRole,
    CreateInvitation,
    CreateOrganization,
    InvitationList,
    InvitationView,
    ListInvitations,
    ListMembers,
    ListOrganizations,
    MemberList,
    MemberView,
    OrganizationList,
    OrganizationView,
    RemoveMember,
    RenameOrganization,
    RevokeInvitation,
)
from phoenix_contracts.subjects import Subjects
from phoenix_platform.logging import current_correlation

from phoenix_gateway.api.auth import ask
from phoenix_gateway.api.idempotency import CARRIES_CREDENTIAL
from phoenix_gateway.api.problems import Problem

RoleName = Literal["owner", "admin", "member", "viewer"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class OrganizationCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class OrganizationPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class Organization(msgspec.Struct, kw_only=True):
    id: str
    name: str
    role: str
    personal: bool
    created_at: datetime
    current: bool  # the organization this request acted in


class Member(msgspec.Struct, kw_only=True):
    user_id: str
    username: str
    email: str
    role: str


class MemberPatch(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName


class InvitationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    role: RoleName = "member"
    expires_in_hours: Annotated[int, msgspec.Meta(ge=1, le=MAX_INVITATION_HOURS)] = 168


class Invitation(msgspec.Struct, kw_only=True):
    id: str
    organization_id: str
    email: str
    role: str
    expires_at: datetime
    created_at: datetime
    invited_by: str
    token: str | None = None  # only in the answer to its creation: pass it on now


class InvitationAccept(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


def _organization(view: OrganizationView, principal: Principal) -> Organization:
    return Organization(
        id=view.id,
        name=view.name,
        role=view.role,
        personal=view.personal,
        created_at=view.created_at,
        current=view.id == principal.organization_id,
    )


def _member(view: MemberView) -> Member:
    return Member(user_id=view.user_id, username=view.username, email=view.email, role=view.role)


def _invitation(view: InvitationView) -> Invitation:
    return Invitation(
        **{
            k: v
            for k, v in msgspec.structs.asdict(view).items()
            if k in Invitation.__struct_fields__
        }
    )


def _session_only(principal: Principal, what: str) -> None:
    if principal.api_key_id:
        raise Problem(403, f"{what} needs a signed-in user, not an API key")


def _reachable(principal: Principal, organization_id: Any, *, change: bool = False) -> str:
    """The path's organization, if this credential may act on it at all."""
    wanted = str(organization_id)
    if principal.api_key_id and wanted != principal.organization_id:
        raise Problem(404, "organization not found")
    if change and "admin" not in principal.scopes:
        raise Problem(403, "managing an organization needs the admin scope")
    return wanted


class OrganizationController(Controller):
    path = "/api/v1/organizations"
    opt = {"account": True}  # a viewer manages their own account (principal.py)

    @get("/")
    async def list_organizations(
        self, principal: Principal, nats: Client, subjects: Subjects
    ) -> list[Organization]:
        reply = await ask(
            nats, subjects, ListOrganizations(actor_user_id=principal.user.id), OrganizationList
        )
        items = [_organization(o, principal) for o in reply.items]
        if principal.api_key_id:  # a key sees only the organization it belongs to
            items = [o for o in items if o.current]
        return items

    @post("/", status_code=201)
    async def create(
        self, data: OrganizationCreate, principal: Principal, nats: Client, subjects: Subjects
    ) -> Organization:
        _session_only(principal, "creating an organization")
        reply = await ask(
            nats,
            subjects,
            CreateOrganization(
                actor_user_id=principal.user.id,
                name=data.name,
                correlation_id=current_correlation(),
            ),
            OrganizationView,
        )
        return _organization(reply, principal)

    @get("/{organization_id:uuid}")
    async def get_organization(
        self, organization_id: Any, principal: Principal, nats: Client, subjects: Subjects
    ) -> Organization:
        wanted = _reachable(principal, organization_id)
        reply = await ask(
            nats, subjects, ListOrganizations(actor_user_id=principal.user.id), OrganizationList
        )
        for view in reply.items:
            if view.id == wanted:
                return _organization(view, principal)
        raise Problem(404, "organization not found")

    @patch("/{organization_id:uuid}")
    async def rename(
        self,
        organization_id: Any,
        data: OrganizationPatch,
        principal: Principal,
        nats: Client,
        subjects: Subjects,
    ) -> Organization:
        reply = await ask(
            nats,
            subjects,
            RenameOrganization(
                actor_user_id=principal.user.id,
                organization_id=_reachable(principal, organization_id, change=True),
                name=data.name,
                correlation_id=current_correlation(),
            ),
            OrganizationView,
        )
        return _organization(reply, principal)

    @get("/{organization_id:uuid}/members")
    async def members(
        self, organization_id: Any, principal: Principal, nats: Client, subjects: Subjects
    ) -> list[Member]:
        reply = await ask(
            nats,
            subjects,
            ListMembers(
                actor_user_id=principal.user.id,
                organization_id=_reachable(principal, organization_id),
            ),
            MemberList,
        )
        return [_member(m) for m in reply.items]

    @patch("/{organization_id:uuid}/members/{user_id:uuid}")
    async def change_role(
        self,
        organization_id: Any,
        user_id: Any,
        data: MemberPatch,
        principal: Principal,
        nats: Client,
        subjects: Subjects,
    ) -> Member:
        reply = await ask(
            nats,
            subjects,
            ChangeMemberRole(
                actor_user_id=principal.user.id,
                organization_id=_reachable(principal, organization_id, change=True),
                user_id=str(user_id),
                role=data.role,
                correlation_id=current_correlation(),
            ),
            MemberView,
        )
        return _member(reply)

    @delete("/{organization_id:uuid}/members/{user_id:uuid}", status_code=204)
    async def remove(
        self,
        organization_id: Any,
        user_id: Any,
        principal: Principal,
        nats: Client,
        subjects: Subjects,
    ) -> None:
        leaving = str(user_id) == principal.user.id
        await ask(
            nats,
            subjects,
            RemoveMember(
                actor_user_id=principal.user.id,
                organization_id=_reachable(principal, organization_id, change=not leaving),
                user_id=str(user_id),
                correlation_id=current_correlation(),
            ),
            Done,
        )

    @get("/{organization_id:uuid}/invitations")
    async def invitations(
        self, organization_id: Any, principal: Principal, nats: Client, subjects: Subjects
    ) -> list[Invitation]:
        reply = await ask(
            nats,
            subjects,
            ListInvitations(
                actor_user_id=principal.user.id,
                organization_id=_reachable(principal, organization_id, change=True),
            ),
            InvitationList,
        )
        return [_invitation(i) for i in reply.items]

    @post(
        "/{organization_id:uuid}/invitations",
        status_code=201,
        opt={CARRIES_CREDENTIAL: True},
    )
    async def invite(
        self,
        organization_id: Any,
        data: InvitationCreate,
        principal: Principal,
        nats: Client,
        subjects: Subjects,
    ) -> Invitation:
        reply = await ask(
            nats,
            subjects,
            CreateInvitation(
                actor_user_id=principal.user.id,
                organization_id=_reachable(principal, organization_id, change=True),
                email=data.email,
                role=data.role,
                expires_in_hours=data.expires_in_hours,
                correlation_id=current_correlation(),
            ),
            InvitationView,
        )
        return _invitation(reply)

    @delete("/{organization_id:uuid}/invitations/{invitation_id:uuid}", status_code=204)
    async def revoke_invitation(
        self,
        organization_id: Any,
        invitation_id: Any,
        principal: Principal,
        nats: Client,
        subjects: Subjects,
    ) -> None:
        await ask(
            nats,
            subjects,
            RevokeInvitation(
                actor_user_id=principal.user.id,
                organization_id=_reachable(principal, organization_id, change=True),
                invitation_id=str(invitation_id),
                correlation_id=current_correlation(),
            ),
            Done,
        )


class InvitationController(Controller):
    path = "/api/v1/invitations"
    opt = {"account": True}  # a viewer manages their own account (principal.py)

    @post("/accept", status_code=200)
    async def accept(
        self, data: InvitationAccept, principal: Principal, nats: Client, subjects: Subjects
    ) -> Organization:
        _session_only(principal, "accepting an invitation")
        reply = await ask(
            nats,
            subjects,
            AcceptInvitation(
                actor_user_id=principal.user.id,
                token=data.token,
                correlation_id=current_correlation(),
            ),
            OrganizationView,
        )
        return _organization(reply, principal)
