"""Organizations: members, roles and invitations (owned by the auth service).

``OrganizationCreated`` and ``MemberAdded`` live in :mod:`phoenix_contracts.identity`
because signup writes them; everything a team does afterwards is here.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from phoenix_contracts.base import Event, Message
from phoenix_contracts.identity import ORGANIZATION, Role

# How long an invitation may stay open, in hours: bounded where the command is
# decided (auth) and where the body is read (gateway).
MAX_INVITATION_HOURS = 30 * 24


class OrganizationRenamed(Event, frozen=True, kw_only=True, tag="organization.renamed"):
    aggregate: ClassVar[str] = ORGANIZATION
    name: str
    by_user_id: str


class MemberRoleChanged(Event, frozen=True, kw_only=True, tag="organization.member_role_changed"):
    aggregate: ClassVar[str] = ORGANIZATION
    user_id: str
    role: Role
    by_user_id: str


class MemberRemoved(Event, frozen=True, kw_only=True, tag="organization.member_removed"):
    """``by_user_id == user_id`` when the member left on their own."""

    aggregate: ClassVar[str] = ORGANIZATION
    user_id: str
    by_user_id: str


class InvitationCreated(Event, frozen=True, kw_only=True, tag="organization.invitation_created"):
    """Only a digest of the invitation token is kept: the token is shown once."""

    aggregate: ClassVar[str] = ORGANIZATION
    invitation_id: str
    email: str
    role: Role
    digest: str
    expires_at: datetime
    by_user_id: str


class InvitationRevoked(Event, frozen=True, kw_only=True, tag="organization.invitation_revoked"):
    aggregate: ClassVar[str] = ORGANIZATION
    invitation_id: str
    by_user_id: str


class InvitationAccepted(Event, frozen=True, kw_only=True, tag="organization.invitation_accepted"):
    """Always followed, in the same append, by the ``MemberAdded`` it grants."""

    aggregate: ClassVar[str] = ORGANIZATION
    invitation_id: str
    user_id: str


OrganizationEvent = (
    OrganizationRenamed
    | MemberRoleChanged
    | MemberRemoved
    | InvitationCreated
    | InvitationRevoked
    | InvitationAccepted
)


# --- requests to the auth service (phx.auth.<verb>) -------------------------
# ``actor_user_id`` is who asks; the auth service checks the actor's role in the
# organization itself rather than trusting a role the caller claims.


class OrganizationView(Message, frozen=True, kw_only=True, tag="organization"):
    id: str
    name: str
    role: Role  # the asking user's role in it
    personal: bool
    created_at: datetime


class OrganizationList(Message, frozen=True, kw_only=True, tag="organization_list"):
    items: list[OrganizationView]


class CreateOrganization(Message, frozen=True, kw_only=True, tag="create_organization"):
    verb: ClassVar[str] = "create_organization"
    actor_user_id: str
    name: str
    correlation_id: str = ""


class ListOrganizations(Message, frozen=True, kw_only=True, tag="list_organizations"):
    verb: ClassVar[str] = "organizations"
    actor_user_id: str


class RenameOrganization(Message, frozen=True, kw_only=True, tag="rename_organization"):
    verb: ClassVar[str] = "rename_organization"
    actor_user_id: str
    organization_id: str
    name: str
    correlation_id: str = ""


class MemberView(Message, frozen=True, kw_only=True, tag="member"):
    user_id: str
    username: str
    email: str
    role: Role


class MemberList(Message, frozen=True, kw_only=True, tag="member_list"):
    items: list[MemberView]


class ListMembers(Message, frozen=True, kw_only=True, tag="list_members"):
    verb: ClassVar[str] = "members"
    actor_user_id: str
    organization_id: str


class ChangeMemberRole(Message, frozen=True, kw_only=True, tag="change_member_role"):
    verb: ClassVar[str] = "change_member_role"
    actor_user_id: str
    organization_id: str
    user_id: str
    role: Role
    correlation_id: str = ""


class RemoveMember(Message, frozen=True, kw_only=True, tag="remove_member"):
    verb: ClassVar[str] = "remove_member"
    actor_user_id: str
    organization_id: str
    user_id: str
    correlation_id: str = ""


class InvitationView(Message, frozen=True, kw_only=True, tag="invitation"):
    id: str
    organization_id: str
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime
    invited_by: str
    token: str | None = None  # only in the answer to its creation


class InvitationList(Message, frozen=True, kw_only=True, tag="invitation_list"):
    items: list[InvitationView]


class CreateInvitation(Message, frozen=True, kw_only=True, tag="create_invitation"):
    verb: ClassVar[str] = "create_invitation"
    actor_user_id: str
    organization_id: str
    email: str
    role: Role
    expires_in_hours: int = 168
    correlation_id: str = ""


class ListInvitations(Message, frozen=True, kw_only=True, tag="list_invitations"):
    verb: ClassVar[str] = "invitations"
    actor_user_id: str
    organization_id: str


class RevokeInvitation(Message, frozen=True, kw_only=True, tag="revoke_invitation"):
    verb: ClassVar[str] = "revoke_invitation"
    actor_user_id: str
    organization_id: str
    invitation_id: str
    correlation_id: str = ""


class AcceptInvitation(Message, frozen=True, kw_only=True, tag="accept_invitation"):
    verb: ClassVar[str] = "accept_invitation"
    actor_user_id: str
    token: str
    correlation_id: str = ""


OrganizationRequest = (
    CreateOrganization
    | ListOrganizations
    | RenameOrganization
    | ListMembers
    | ChangeMemberRole
    | RemoveMember
    | CreateInvitation
    | ListInvitations
    | RevokeInvitation
    | AcceptInvitation
)
OrganizationReply = (
    OrganizationView | OrganizationList | MemberList | InvitationView | InvitationList
)
