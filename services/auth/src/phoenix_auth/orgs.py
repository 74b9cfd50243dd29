"""Organizations, members and invitations: thin handlers over the pure aggregate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
from phoenix_contracts.base import Accepted, Event, Rejected
from phoenix_contracts.identity import Done, UserView
from phoenix_contracts.organizations import (
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
from phoenix_platform.commands import execute
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from sqlalchemy import text

from phoenix_auth import organization as org
from phoenix_auth.handlers import AuthDeps, join_by_invitation

log = get_logger(__name__)

Decision = Callable[[org.Organization], list[Event] | Rejected]


def _context(organization_id: str, actor: str, correlation_id: str = "") -> org.Context:
    return org.Context(
        organization_id=organization_id,
        actor_user_id=actor,
        now=datetime.now(UTC),
        event_ids=(uuid7(), uuid7()),
        correlation_id=correlation_id,
    )


async def _run(deps: AuthDeps, organization_id: str, decide: Decision) -> Accepted | Rejected:
    reply = await execute(deps.store, org.ORGANIZATIONS, organization_id, decide)
    if isinstance(reply, Accepted):
        await deps.projector.wait_for(reply.sequence)
    return reply


async def _view(deps: AuthDeps, user_id: str, organization_id: str) -> OrganizationView | None:
    listing = await list_organizations(ListOrganizations(actor_user_id=user_id), deps)
    return next((o for o in listing.items if o.id == organization_id), None)


async def create_organization(
    cmd: CreateOrganization, deps: AuthDeps
) -> OrganizationView | Rejected:
    organization_id = uuid7()
    ctx = _context(organization_id, cmd.actor_user_id, cmd.correlation_id)
    reply = await _run(deps, organization_id, lambda _: org.decide_create(cmd.name, ctx))
    if isinstance(reply, Rejected):
        return reply
    log.info("organization.created", organization_id=organization_id)
    return await _view(deps, cmd.actor_user_id, organization_id) or org.NOT_FOUND


async def list_organizations(cmd: ListOrganizations, deps: AuthDeps) -> OrganizationList:
    async with deps.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "select o.id, o.name, o.personal, o.created_at, m.role from organizations o"
                    " join memberships m on m.organization_id = o.id where m.user_id = :u"
                    " order by o.created_at, o.id"
                ),
                {"u": cmd.actor_user_id},
            )
        ).all()
    return OrganizationList(
        items=[
            OrganizationView(
                id=str(r.id), name=r.name, role=r.role, personal=r.personal, created_at=r.created_at
            )
            for r in rows
        ]
    )


async def rename_organization(
    cmd: RenameOrganization, deps: AuthDeps
) -> OrganizationView | Rejected:
    ctx = _context(cmd.organization_id, cmd.actor_user_id, cmd.correlation_id)
    reply = await _run(
        deps, cmd.organization_id, lambda state: org.decide_rename(state, cmd.name, ctx)
    )
    if isinstance(reply, Rejected):
        return reply
    return await _view(deps, cmd.actor_user_id, cmd.organization_id) or org.NOT_FOUND


async def list_members(cmd: ListMembers, deps: AuthDeps) -> MemberList | Rejected:
    async with deps.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "select u.id, u.username, u.email, m.role from memberships m"
                    " join users u on u.id = m.user_id where m.organization_id = :o"
                    " order by u.username_key"
                ),
                {"o": cmd.organization_id},
            )
        ).all()
    if not any(str(r.id) == cmd.actor_user_id for r in rows):
        return org.NOT_FOUND
    return MemberList(
        items=[
            MemberView(user_id=str(r.id), username=r.username, email=r.email, role=r.role)
            for r in rows
        ]
    )


async def change_member_role(cmd: ChangeMemberRole, deps: AuthDeps) -> MemberView | Rejected:
    ctx = _context(cmd.organization_id, cmd.actor_user_id, cmd.correlation_id)
    reply = await _run(
        deps,
        cmd.organization_id,
        lambda state: org.decide_role_change(state, cmd.user_id, cmd.role, ctx),
    )
    if isinstance(reply, Rejected):
        return reply
    await deps.revoked(cmd.user_id)  # their cached principal carries the old role
    members = await list_members(
        ListMembers(actor_user_id=cmd.actor_user_id, organization_id=cmd.organization_id), deps
    )
    if isinstance(members, Rejected):  # the actor demoted and then lost sight? cannot happen
        return members
    return next((m for m in members.items if m.user_id == cmd.user_id), None) or Rejected(
        code="not_found", message="member not found"
    )


async def remove_member(cmd: RemoveMember, deps: AuthDeps) -> Done | Rejected:
    ctx = _context(cmd.organization_id, cmd.actor_user_id, cmd.correlation_id)
    reply = await _run(
        deps, cmd.organization_id, lambda state: org.decide_remove(state, cmd.user_id, ctx)
    )
    if isinstance(reply, Rejected):
        return reply
    # Their sessions and keys stop working in this organization at once.
    await deps.revoked(cmd.user_id)
    log.info(
        "organization.member_removed", organization_id=cmd.organization_id, user_id=cmd.user_id
    )
    return Done()


async def create_invitation(cmd: CreateInvitation, deps: AuthDeps) -> InvitationView | Rejected:
    token = org.new_invitation_token()
    invitation_id = uuid7()
    ctx = _context(cmd.organization_id, cmd.actor_user_id, cmd.correlation_id)
    reply = await _run(
        deps,
        cmd.organization_id,
        lambda state: org.decide_invite(
            state,
            cmd.email.strip(),
            cmd.role,
            cmd.expires_in_hours,
            org.invitation_digest(token),
            invitation_id,
            ctx,
        ),
    )
    if isinstance(reply, Rejected):
        return reply
    log.info("organization.invitation_created", invitation_id=invitation_id)  # never the token
    listing = await _invitations(deps, cmd.organization_id, invitation_id)
    return msgspec.structs.replace(listing[0], token=token)


async def _invitations(
    deps: AuthDeps, organization_id: str, invitation_id: str | None = None
) -> list[InvitationView]:
    async with deps.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "select id, email, role, expires_at, created_at, invited_by from invitations"
                    " where organization_id = :o and state = 'pending' and expires_at > now()"
                    " and (cast(:i as uuid) is null or id = cast(:i as uuid))"
                    " order by created_at, id"
                ),
                {"o": organization_id, "i": invitation_id},
            )
        ).all()
    return [
        InvitationView(
            id=str(r.id),
            organization_id=organization_id,
            email=r.email,
            role=r.role,
            expires_at=r.expires_at,
            created_at=r.created_at,
            invited_by=str(r.invited_by),
        )
        for r in rows
    ]


async def list_invitations(cmd: ListInvitations, deps: AuthDeps) -> InvitationList | Rejected:
    members = await list_members(
        ListMembers(actor_user_id=cmd.actor_user_id, organization_id=cmd.organization_id), deps
    )
    if isinstance(members, Rejected):
        return members
    role = next(m.role for m in members.items if m.user_id == cmd.actor_user_id)
    if org.RANK[role] < org.RANK["admin"]:
        return Rejected(code="forbidden", message="only an owner or admin may see invitations")
    return InvitationList(items=await _invitations(deps, cmd.organization_id))


async def revoke_invitation(cmd: RevokeInvitation, deps: AuthDeps) -> Done | Rejected:
    ctx = _context(cmd.organization_id, cmd.actor_user_id, cmd.correlation_id)
    reply = await _run(
        deps,
        cmd.organization_id,
        lambda state: org.decide_revoke_invitation(state, cmd.invitation_id, ctx),
    )
    return reply if isinstance(reply, Rejected) else Done()


async def accept_invitation(cmd: AcceptInvitation, deps: AuthDeps) -> OrganizationView | Rejected:
    member = await _user(deps, cmd.actor_user_id)
    reply = await join_by_invitation(deps, member, cmd.token, cmd.correlation_id)
    if isinstance(reply, Rejected):
        return reply
    log.info("organization.invitation_accepted", organization_id=reply.aggregate_id)
    return await _view(deps, cmd.actor_user_id, reply.aggregate_id) or org.NOT_FOUND


async def _user(deps: AuthDeps, user_id: str) -> UserView:
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text("select id, username, email from users where id = :u"), {"u": user_id}
            )
        ).one()
    return UserView(id=str(row.id), username=row.username, email=row.email)
