"""The organization aggregate's rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from phoenix_auth import organization as org
from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.identity import MemberAdded, Role
from phoenix_contracts.organizations import (
    InvitationAccepted,
    InvitationCreated,
    MemberRemoved,
    MemberRoleChanged,
)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
ORG = "0190a000-0000-7000-8000-000000000001"
OWNER, ADMIN, MEMBER, VIEWER, STRANGER = "owner", "admin", "member", "viewer", "stranger"


def ctx(actor: str, *, now: datetime = NOW) -> org.Context:
    return org.Context(organization_id=ORG, actor_user_id=actor, now=now, event_ids=("e1", "e2"))


def fold(events: list[Event]) -> org.Organization:
    return org.ORGANIZATIONS.fold(events)


def team() -> org.Organization:
    """An organization with one member of each role."""
    created = org.decide_create("Acme", ctx(OWNER))
    assert not isinstance(created, Rejected)
    state = fold(created)
    for user, role in ((ADMIN, "admin"), (MEMBER, "member"), (VIEWER, "viewer")):
        state = org.evolve(
            state, MemberAdded(**ctx(OWNER).envelope(state), user_id=user, role=role)
        )
    return state


def refused(decision: list[Event] | Rejected, code: str) -> bool:
    return isinstance(decision, Rejected) and decision.code == code


def test_creating_makes_the_creator_its_owner() -> None:
    state = team()
    assert state.exists
    assert state.name == "Acme"
    assert state.members[OWNER] == "owner"
    assert state.version == 5


def test_names_are_checked() -> None:
    assert refused(org.decide_create("   ", ctx(OWNER)), "invalid")
    assert refused(org.decide_rename(team(), "x" * 101, ctx(OWNER)), "invalid")


def test_a_stranger_learns_nothing_and_lower_roles_cannot_manage() -> None:
    state = team()
    assert refused(org.decide_rename(state, "New", ctx(STRANGER)), "not_found")
    for actor in (MEMBER, VIEWER):
        assert refused(org.decide_rename(state, "New", ctx(actor)), "forbidden")
        assert refused(org.decide_role_change(state, VIEWER, "member", ctx(actor)), "forbidden")
        other = MEMBER if actor == VIEWER else VIEWER
        assert refused(org.decide_remove(state, other, ctx(actor)), "forbidden")


def test_admins_cannot_touch_or_make_owners() -> None:
    state = team()
    assert refused(org.decide_role_change(state, OWNER, "member", ctx(ADMIN)), "forbidden")
    assert refused(org.decide_role_change(state, MEMBER, "owner", ctx(ADMIN)), "forbidden")
    assert refused(org.decide_remove(state, OWNER, ctx(ADMIN)), "forbidden")
    changed = org.decide_role_change(state, VIEWER, "member", ctx(ADMIN))
    assert isinstance(changed, list)
    assert isinstance(changed[0], MemberRoleChanged)


def test_the_last_owner_stays() -> None:
    state = team()
    assert refused(org.decide_role_change(state, OWNER, "admin", ctx(OWNER)), "conflict")
    assert refused(org.decide_remove(state, OWNER, ctx(OWNER)), "conflict")
    promoted = org.decide_role_change(state, ADMIN, "owner", ctx(OWNER))
    assert isinstance(promoted, list)
    state = org.evolve(state, promoted[0])
    left = org.decide_remove(state, OWNER, ctx(OWNER))
    assert isinstance(left, list)
    assert isinstance(left[0], MemberRemoved)


def test_anyone_may_leave() -> None:
    state = team()
    left = org.decide_remove(state, VIEWER, ctx(VIEWER))
    assert isinstance(left, list)
    assert VIEWER not in org.evolve(state, left[0]).members


def invite(state: org.Organization, actor: str, email: str, role: Role) -> list[Event] | Rejected:
    return org.decide_invite(
        state, email, role, 24, org.invitation_digest("phxinv_t"), "inv-1", ctx(actor)
    )


def test_invitations_grant_at_most_the_inviters_role() -> None:
    state = team()
    assert refused(invite(state, ADMIN, "new@example.com", "owner"), "forbidden")
    assert refused(invite(state, MEMBER, "new@example.com", "viewer"), "forbidden")
    assert refused(invite(state, OWNER, "not-an-email", "viewer"), "invalid")
    assert isinstance(invite(state, ADMIN, "new@example.com", "admin"), list)


def test_an_invitation_is_accepted_once_by_its_address_only() -> None:
    state = team()
    created = invite(state, OWNER, "New@Example.com", "member")
    assert isinstance(created, list)
    assert isinstance(created[0], InvitationCreated)
    state = org.evolve(state, created[0])
    digest = org.invitation_digest("phxinv_t")
    assert refused(org.decide_accept(state, digest, "other@example.com", ctx("u9")), "forbidden")
    assert refused(org.decide_accept(state, "0" * 64, "new@example.com", ctx("u9")), "not_found")
    accepted = org.decide_accept(state, digest, "new@example.com", ctx("u9"))
    assert isinstance(accepted, list)
    assert isinstance(accepted[0], InvitationAccepted)
    assert isinstance(accepted[1], MemberAdded)
    assert accepted[1].role == "member"
    for event in accepted:
        state = org.evolve(state, event)
    assert state.members["u9"] == "member"
    assert refused(org.decide_accept(state, digest, "new@example.com", ctx("u10")), "not_found")


def test_an_expired_invitation_is_refused() -> None:
    state = team()
    created = invite(state, OWNER, "late@example.com", "viewer")
    assert isinstance(created, list)
    state = org.evolve(state, created[0])
    later = ctx("u9", now=NOW + timedelta(hours=25))
    digest = org.invitation_digest("phxinv_t")
    assert refused(org.decide_accept(state, digest, "late@example.com", later), "not_found")


def test_revoking_needs_a_manager_and_a_pending_invitation() -> None:
    state = team()
    created = invite(state, OWNER, "x@example.com", "viewer")
    assert isinstance(created, list)
    state = org.evolve(state, created[0])
    assert refused(org.decide_revoke_invitation(state, "inv-1", ctx(MEMBER)), "forbidden")
    assert refused(org.decide_revoke_invitation(state, "nope", ctx(ADMIN)), "not_found")
    revoked = org.decide_revoke_invitation(state, "inv-1", ctx(ADMIN))
    assert isinstance(revoked, list)
    assert org.evolve(state, revoked[0]).invitations == {}
