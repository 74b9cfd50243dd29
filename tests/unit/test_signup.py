"""Signup rules of the auth service (``phoenix_auth.domain``)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from phoenix_auth.domain import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    NewIds,
    SignupContext,
    decide_signup,
    username_key,
    validate_signup,
)
from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import MemberAdded, OrganizationCreated, SignUp, UserSignedUp

NOW = datetime(2024, 1, 1, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
IDS = NewIds(user_id="user-1", organization_id="org-1", event_ids=("ev-1", "ev-2", "ev-3"))
OPEN = SignupContext(mode="open", user_count=5, username_taken=False)


def signup(
    username: str = "alice", email: str = "alice@example.com", password: str = PASSWORD
) -> SignUp:
    return SignUp(username=username, email=email, password=password, correlation_id="corr-1")


USERNAMES = [
    ("three-chars", "abc", True),
    ("thirty-two-chars", "a" * 32, True),
    ("dots-dashes-underscores", "a.b-c_d", True),
    ("starts-with-digit", "9lives", True),
    ("mixed-case", "Alice", True),
    ("two-chars", "ab", False),
    ("thirty-three-chars", "a" * 33, False),
    ("starts-with-underscore", "_alice", False),
    ("starts-with-dot", ".alice", False),
    ("starts-with-dash", "-alice", False),
    ("space", "al ice", False),
    ("at-sign", "al@ice", False),
    ("slash", "al/ice", False),
    ("non-ascii", "élodie", False),
    ("empty", "", False),
]


@pytest.mark.parametrize(
    ("username", "valid"), [row[1:] for row in USERNAMES], ids=[row[0] for row in USERNAMES]
)
def test_a_username_is_three_to_32_safe_characters(username: str, valid: bool) -> None:
    problem = validate_signup(signup(username=username))
    if valid:
        assert problem is None
    else:
        assert problem is not None
        assert (problem.code, problem.field) == ("invalid", "username")


EMAILS = [
    ("plain", "alice@example.com", True),
    ("subdomain-and-plus", "alice+phoenix@mail.example.co.uk", True),
    ("no-at", "alice.example.com", False),
    ("no-dot-in-domain", "alice@localhost", False),
    ("two-ats", "alice@@example.com", False),
    ("space", "ali ce@example.com", False),
    ("empty-local-part", "@example.com", False),
    ("empty-domain", "alice@.com", False),
    ("empty", "", False),
]


@pytest.mark.parametrize(
    ("email", "valid"), [row[1:] for row in EMAILS], ids=[row[0] for row in EMAILS]
)
def test_an_email_needs_a_local_part_and_a_dotted_domain(email: str, valid: bool) -> None:
    problem = validate_signup(signup(email=email))
    if valid:
        assert problem is None
    else:
        assert problem is not None
        assert (problem.code, problem.field) == ("invalid", "email")


PASSWORDS = [
    ("seven-chars", "x" * (MIN_PASSWORD - 1), False),
    ("eight-chars", "x" * MIN_PASSWORD, True),
    ("max-length", "x" * MAX_PASSWORD, True),
    ("one-over-max", "x" * (MAX_PASSWORD + 1), False),
    ("megabyte", "x" * 1_000_000, False),
    ("empty", "", False),
]


@pytest.mark.parametrize(
    ("password", "valid"), [row[1:] for row in PASSWORDS], ids=[row[0] for row in PASSWORDS]
)
def test_a_password_is_8_to_1024_characters(password: str, valid: bool) -> None:
    problem = validate_signup(signup(password=password))
    if valid:
        assert problem is None
    else:
        assert problem is not None
        assert (problem.code, problem.field) == ("invalid", "password")


def test_the_password_bounds_are_8_and_1024() -> None:
    assert (MIN_PASSWORD, MAX_PASSWORD) == (8, 1024)


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [("alice\n", "alice@example.com", "username"), ("alice", "alice@example.com\n", "email")],
    ids=["username", "email"],
)
def test_a_trailing_newline_is_not_accepted(username: str, email: str, field: str) -> None:
    problem = validate_signup(signup(username=username, email=email))
    assert problem is not None
    assert problem.field == field


def test_usernames_are_unique_regardless_of_case() -> None:
    assert username_key("Alice") == username_key("ALICE") == username_key("alice")
    assert username_key("alice") != username_key("alice2")


# --- decide_signup --------------------------------------------------------------------


def test_a_signup_creates_a_user_a_personal_organization_and_an_owner_membership() -> None:
    events = decide_signup(OPEN, signup(), HASH, IDS, NOW)
    assert isinstance(events, list)
    user, org, member = events
    assert isinstance(user, UserSignedUp)
    assert isinstance(org, OrganizationCreated)
    assert isinstance(member, MemberAdded)
    assert (user.aggregate_id, user.aggregate_version) == ("user-1", 1)
    assert (user.username, user.email, user.password_hash) == ("alice", "alice@example.com", HASH)
    assert (org.aggregate_id, org.aggregate_version) == ("org-1", 1)
    assert (org.owner_user_id, org.personal) == ("user-1", True)
    assert "alice" in org.name
    assert (member.aggregate_id, member.aggregate_version) == ("org-1", 2)
    assert (member.user_id, member.role) == ("user-1", "owner")
    assert [e.event_id for e in events] == ["ev-1", "ev-2", "ev-3"]
    assert {e.organization_id for e in events} == {"org-1"}
    assert {e.correlation_id for e in events} == {"corr-1"}
    assert {e.occurred_at for e in events} == {NOW}


def test_the_password_itself_is_never_in_the_events() -> None:
    events = decide_signup(OPEN, signup(), HASH, IDS, NOW)
    assert isinstance(events, list)
    assert PASSWORD.encode() not in msgspec.json.encode(events)


@pytest.mark.parametrize(
    ("context", "code"),
    [
        pytest.param(SignupContext("first-user", 0, False), None, id="first-user-mode-empty"),
        pytest.param(SignupContext("first-user", 1, False), "forbidden", id="first-user-closed"),
        pytest.param(SignupContext("first-user", 7, False), "forbidden", id="first-user-many"),
        pytest.param(SignupContext("open", 0, False), None, id="open-empty"),
        pytest.param(SignupContext("open", 1000, False), None, id="open-busy"),
        pytest.param(SignupContext("open", 3, True), "conflict", id="open-username-taken"),
        pytest.param(SignupContext("first-user", 0, True), "conflict", id="first-user-taken"),
        pytest.param(SignupContext("first-user", 1, True), "forbidden", id="closed-beats-taken"),
    ],
)
def test_signup_mode_and_taken_usernames_decide_who_may_join(
    context: SignupContext, code: str | None
) -> None:
    decision = decide_signup(context, signup(), HASH, IDS, NOW)
    if code is None:
        assert isinstance(decision, list)
        assert len(decision) == 3
    else:
        assert isinstance(decision, Rejected)
        assert decision.code == code


def test_a_taken_username_is_a_conflict_on_the_username_field() -> None:
    decision = decide_signup(SignupContext("open", 1, True), signup(), HASH, IDS, NOW)
    assert isinstance(decision, Rejected)
    assert (decision.code, decision.field) == ("conflict", "username")


def test_first_user_mode_closes_after_the_first_user() -> None:
    first = decide_signup(SignupContext("first-user", 0, False), signup("alice"), HASH, IDS, NOW)
    assert isinstance(first, list)
    second = decide_signup(SignupContext("first-user", 1, False), signup("bob"), HASH, IDS, NOW)
    assert isinstance(second, Rejected)
    assert second.code == "forbidden"


def test_invalid_input_is_reported_before_the_signup_mode() -> None:
    decision = decide_signup(
        SignupContext("first-user", 1, True), signup(password="short"), HASH, IDS, NOW
    )
    assert isinstance(decision, Rejected)
    assert (decision.code, decision.field) == ("invalid", "password")


def test_an_invitation_opens_a_closed_signup_and_joins_no_personal_organization() -> None:
    invited = SignupContext("first-user", 3, False, invited_email="Alice@Example.com")
    events = decide_signup(invited, signup(), HASH, IDS, NOW)
    assert isinstance(events, list)
    assert [type(e) for e in events] == [UserSignedUp]
    assert events[0].organization_id == "org-1"


def test_an_invitation_is_only_good_for_its_address() -> None:
    invited = SignupContext("open", 3, False, invited_email="bob@example.com")
    rejected = decide_signup(invited, signup(), HASH, IDS, NOW)
    assert isinstance(rejected, Rejected)
    assert rejected.field == "email"
