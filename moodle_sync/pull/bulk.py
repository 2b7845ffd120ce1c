"""Enrolments through local_cetadsync: every course in one call (chunked if many), instead of
one core_enrol_get_enrolled_users per course, landing in the same store rows.

The plugin's rows carry status, roles and groups but no names: names come from
core_user_get_users_by_field (chunked) for the users the store does not know yet (for all of
them on a `--full` run, which is how a changed name arrives). A plugin older than 2026120401
sends no groups: then a course with a team-submission assignment, whose teams are its groups,
is read again through core, one call for that course.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.cetadsync import PluginEnrolment, get_enrolments
from moodle_sync.client.envelope import Listing
from moodle_sync.client.models import EnrolledUser, User
from moodle_sync.client.users import get_users_by_field
from moodle_sync.pull.fetch import Counted, Fetched, attempt, describe, fetch_enrolments
from moodle_sync.store.tables import User as UserRow

__all__ = ["fetch_enrolments_bulk"]


def stored_people(sessions: sessionmaker[Session]) -> Callable[[Collection[int]], dict[int, User]]:
    """A look-up of stored users' names, as core_user_get_users_by_field would give them."""

    def lookup(ids: Collection[int]) -> dict[int, User]:
        with sessions() as session:
            rows = session.execute(
                select(UserRow.id, UserRow.username, UserRow.firstname, UserRow.lastname,
                       UserRow.email, UserRow.idnumber).where(UserRow.id.in_(sorted(ids)))
            )  # fmt: skip
            return {uid: User(id=uid, username=username, firstname=first, lastname=last,
                              fullname=f"{first} {last}", email=email, idnumber=idnumber)
                    for uid, username, first, last, email, idnumber in rows}  # fmt: skip

    return lookup


def fetch_enrolments_bulk(
    requester: Requester,
    fetched: Fetched,
    counted: Counted,
    known: Callable[[Collection[int]], Mapping[int, User]],
    digests: Mapping[int, str],
) -> None:
    """Calls: local_cetadsync_get_enrolments, core_user_get_users_by_field; with a plugin
    that sends no groups, core_enrol_get_enrolled_users for each course with team submissions.

    A course whose rows digest to its stored `digests` entry keeps its stored rows; names are
    looked up (`known`, then Moodle) only for the courses read again."""
    ids = [cid for cid in fetched.courses if cid not in fetched.failures]
    if not ids:
        return
    answer = attempt(lambda: get_enrolments(requester, ids, digests))
    if isinstance(answer, Exception):
        fetched.fail(ids, f"enrolments: {answer}")
        return
    listings, warnings = answer
    rows = [row for listing in listings.values() for row in listing.items or ()]
    if any(row.groups is None for row in rows):
        teams = [
            cid for cid in ids if any(a.teamsubmission for a in fetched.courses[cid].assignments)
        ]
        fetch_enrolments(requester, fetched, counted, teams, digests=digests)
        ids = [cid for cid in ids if cid not in teams]
    for warning in warnings:
        fetched.fail([warning.itemid or 0], f"enrolments: {describe(warning)}")
    wanted = {r.userid for cid in ids if cid in listings for r in listings[cid].items or ()}
    stored = known(wanted) if wanted else {}
    unknown = sorted(wanted - set(stored))
    people = attempt(lambda: get_users_by_field(requester, "id", unknown) if unknown else [])
    if isinstance(people, Exception):
        fetched.fail(ids, f"enrolments (users' names): {people}")
        return
    names = {**stored, **{user.id: user for user in people}}
    for cid in ids:
        if cid in fetched.failures or cid not in listings:
            counted.step()
            continue
        listing = listings[cid]
        users = None
        if listing.items is not None:
            mine: dict[int, list[PluginEnrolment]] = defaultdict(list)
            for row in listing.items:
                mine[row.userid].append(row)
            users = [enrolled(names.get(uid), uid, rows) for uid, rows in sorted(mine.items())]
        fetched.courses[cid].enrolled(Listing(listing.digest, listing.count, users))
        counted.step()


def enrolled(user: User | None, userid: int, rows: Sequence[PluginEnrolment]) -> EnrolledUser:
    """One user of a course as core_enrol_get_enrolled_users would list them: active
    when any of their enrolments is; suspended, ended or not started is `suspended` (trap 6)."""
    roles = {role.roleid: role for row in rows for role in row.roles}
    active = any(row.status == "active" for row in rows)
    return EnrolledUser(
        id=userid,
        username=user.username if user else "",
        firstname=user.firstname if user else "",
        lastname=user.lastname if user else "",
        fullname=user.fullname if user else "",
        email=user.email if user else "",
        idnumber=user.idnumber if user else "",
        roles=[roles[rid] for rid in sorted(roles)],
        groups=sorted(
            {g.id: g for row in rows for g in row.groups or []}.values(), key=lambda g: g.id
        ),
        status="active" if active else "suspended",
    )
