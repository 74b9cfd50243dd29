"""The organization aggregate: pure rules about members, roles and invitations.

Roles rank ``viewer < member < admin < owner``. Owners and admins manage the
team; an admin can neither touch an owner nor make one; an organization always
keeps at least one owner. Anyone may leave, except its last owner.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from phoenix_contracts.base import Envelope, Event, Rejected
from phoenix_contracts.identity import ORGANIZATION, MemberAdded, OrganizationCreated, Role
from phoenix_contracts.organizations import (
    MAX_INVITATION_HOURS,
    InvitationAccepted,
    InvitationCreated,
    InvitationRevoked,
    MemberRemoved,
    MemberRoleChanged,
    OrganizationRenamed,
)
from phoenix_platform.commands import Aggregate

from phoenix_auth.domain import EMAIL

RANK: dict[str, int] = {"viewer": 0, "member": 1, "admin": 2, "owner": 3}
INVITATION_MARK = "phxinv_"
MAX_PENDING_INVITATIONS = 200
NOT_FOUND = Rejected(code="not_found", message="organization not found")


@dataclass(frozen=True)
class Invitation:
    id: str
    email: str
    role: Role
    digest: str
    expires_at: datetime


@dataclass(frozen=True)
class Organization:
    exists: bool = False
    name: str = ""
    personal: bool = False
    version: int = 0
    members: dict[str, Role] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)  # pending only

    @property
    def owners(self) -> int:
        return sum(1 for role in self.members.values() if role == "owner")


def evolve(state: Organization, event: Event) -> Organization:
    state = replace(state, version=event.aggregate_version)
    match event:
        case OrganizationCreated():
            return replace(state, exists=True, name=event.name, personal=event.personal)
        case OrganizationRenamed():
            return replace(state, name=event.name)
        case MemberAdded() | MemberRoleChanged():
            return replace(state, members={**state.members, event.user_id: event.role})
        case MemberRemoved():
            members = dict(state.members)
            members.pop(event.user_id, None)
            return replace(state, members=members)
        case InvitationCreated():
            invitation = Invitation(
                id=event.invitation_id,
                email=event.email,
                role=event.role,
                digest=event.digest,
                expires_at=event.expires_at,
            )
            return replace(
                state, invitations={**state.invitations, event.invitation_id: invitation}
            )
        case InvitationRevoked() | InvitationAccepted():
            pending = dict(state.invitations)
            pending.pop(event.invitation_id, None)
            return replace(state, invitations=pending)
    return state


ORGANIZATIONS: Aggregate[Organization] = Aggregate(ORGANIZATION, Organization(), evolve)


@dataclass(frozen=True)
class Context:
    organization_id: str
    actor_user_id: str
    now: datetime
    event_ids: tuple[str, ...]
    correlation_id: str = ""

    def envelope(self, state: Organization, offset: int = 0) -> Envelope:
        return Envelope(
            event_id=self.event_ids[offset],
            aggregate_id=self.organization_id,
            aggregate_version=state.version + 1 + offset,
            occurred_at=self.now,
            organization_id=self.organization_id,
            correlation_id=self.correlation_id,
        )


def invitation_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_invitation_token() -> str:
    return INVITATION_MARK + secrets.token_urlsafe(32)


def _manager(state: Organization, actor: str) -> Role | Rejected:
    """The actor's role if they may manage the team (admin or owner)."""
    role = state.members.get(actor)
    if not state.exists or role is None:
        return NOT_FOUND  # a stranger learns nothing, not even that it exists
    if RANK[role] < RANK["admin"]:
        return Rejected(code="forbidden", message="only an owner or admin may do this")
    return role


def decide_create(name: str, ctx: Context, *, personal: bool = False) -> list[Event] | Rejected:
    if (problem := validate_name(name)) is not None:
        return problem
    state = Organization()
    return [
        OrganizationCreated(
            **ctx.envelope(state),
            name=name.strip(),
            owner_user_id=ctx.actor_user_id,
            personal=personal,
        ),
        MemberAdded(**ctx.envelope(state, 1), user_id=ctx.actor_user_id, role="owner"),
    ]


def validate_name(name: str) -> Rejected | None:
    if not 1 <= len(name.strip()) <= 100:
        return Rejected(code="invalid", field="name", message="1 to 100 characters")
    return None


def decide_rename(state: Organization, name: str, ctx: Context) -> list[Event] | Rejected:
    role = _manager(state, ctx.actor_user_id)
    if isinstance(role, Rejected):
        return role
    if (problem := validate_name(name)) is not None:
        return problem
    return [
        OrganizationRenamed(**ctx.envelope(state), name=name.strip(), by_user_id=ctx.actor_user_id)
    ]


def decide_role_change(
    state: Organization, user_id: str, role: Role, ctx: Context
) -> list[Event] | Rejected:
    actor_role = _manager(state, ctx.actor_user_id)
    if isinstance(actor_role, Rejected):
        return actor_role
    current = state.members.get(user_id)
    if current is None:
        return Rejected(code="not_found", message="member not found")
    if actor_role != "owner" and "owner" in (current, role):
        return Rejected(code="forbidden", message="only an owner may make or change an owner")
    if current == "owner" and role != "owner" and state.owners == 1:
        return Rejected(
            code="conflict", field="role", message="the last owner cannot step down; add another"
        )
    if current == role:
        return []
    return [
        MemberRoleChanged(
            **ctx.envelope(state), user_id=user_id, role=role, by_user_id=ctx.actor_user_id
        )
    ]


def decide_remove(state: Organization, user_id: str, ctx: Context) -> list[Event] | Rejected:
    if not state.exists or ctx.actor_user_id not in state.members:
        return NOT_FOUND
    current = state.members.get(user_id)
    if user_id != ctx.actor_user_id:  # leaving needs no permission; removing others does
        actor_role = _manager(state, ctx.actor_user_id)
        if isinstance(actor_role, Rejected):
            return actor_role
        if current is None:
            return Rejected(code="not_found", message="member not found")
        if current == "owner" and actor_role != "owner":
            return Rejected(code="forbidden", message="only an owner may remove an owner")
    if current == "owner" and state.owners == 1:
        return Rejected(
            code="conflict", message="the last owner cannot leave; make someone else owner first"
        )
    return [MemberRemoved(**ctx.envelope(state), user_id=user_id, by_user_id=ctx.actor_user_id)]


def decide_invite(
    state: Organization,
    email: str,
    role: Role,
    expires_in_hours: int,
    digest: str,
    invitation_id: str,
    ctx: Context,
) -> list[Event] | Rejected:
    actor_role = _manager(state, ctx.actor_user_id)
    if isinstance(actor_role, Rejected):
        return actor_role
    if not EMAIL.fullmatch(email):
        return Rejected(code="invalid", field="email", message="not an email address")
    if RANK[role] > RANK[actor_role]:
        return Rejected(code="forbidden", field="role", message="you cannot grant a higher role")
    if not 1 <= expires_in_hours <= MAX_INVITATION_HOURS:
        return Rejected(
            code="invalid",
            field="expires_in_hours",
            message=f"1 to {MAX_INVITATION_HOURS} hours",
        )
    live = [i for i in state.invitations.values() if i.expires_at > ctx.now]
    if len(live) >= MAX_PENDING_INVITATIONS:
        return Rejected(code="conflict", message="too many pending invitations; revoke some")
    return [
        InvitationCreated(
            **ctx.envelope(state),
            invitation_id=invitation_id,
            email=email,
            role=role,
            digest=digest,
            expires_at=ctx.now + timedelta(hours=expires_in_hours),
            by_user_id=ctx.actor_user_id,
        )
    ]


def decide_revoke_invitation(
    state: Organization, invitation_id: str, ctx: Context
) -> list[Event] | Rejected:
    actor_role = _manager(state, ctx.actor_user_id)
    if isinstance(actor_role, Rejected):
        return actor_role
    if invitation_id not in state.invitations:
        return Rejected(code="not_found", message="invitation not found")
    return [
        InvitationRevoked(
            **ctx.envelope(state), invitation_id=invitation_id, by_user_id=ctx.actor_user_id
        )
    ]


INVALID_INVITATION = Rejected(
    code="not_found", field="token", message="the invitation is unknown, used, revoked or expired"
)


def decide_accept(
    state: Organization, digest: str, user_email: str, ctx: Context
) -> list[Event] | Rejected:
    invitation = next(
        (i for i in state.invitations.values() if secrets.compare_digest(i.digest, digest)), None
    )
    if invitation is None or invitation.expires_at <= ctx.now:
        return INVALID_INVITATION
    # The link is bound to the invited address: a forwarded or leaked link is
    # useless to anyone signed in with another email.
    if invitation.email.casefold() != user_email.casefold():
        return Rejected(
            code="forbidden", field="token", message="this invitation is for another email address"
        )
    if ctx.actor_user_id in state.members:
        return Rejected(code="conflict", message="you are already a member of this organization")
    return [
        InvitationAccepted(
            **ctx.envelope(state), invitation_id=invitation.id, user_id=ctx.actor_user_id
        ),
        MemberAdded(**ctx.envelope(state, 1), user_id=ctx.actor_user_id, role=invitation.role),
    ]
