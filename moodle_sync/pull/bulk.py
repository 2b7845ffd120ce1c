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
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.cetadsync import PluginEnrolment, get_enrolments
from moodle_sync.client.models import EnrolledUser, User
from moodle_sync.client.users import get_users_by_field
from moodle_sync.pull.fetch import Counted, Fetched, attempt, describe, fetch_enrolments
from moodle_sync.store.tables import User as UserRow

__all__ = ["fetch_enrolments_bulk"]


def stored_people(sessions: sessionmaker[Session]) -> dict[int, User]:
    """Every stored user's names, as core_user_get_users_by_field would give them."""
    with sessions() as session:
        rows = session.scalars(select(UserRow))
        return {row.id: User(id=row.id, username=row.username, firstname=row.firstname,
                             lastname=row.lastname, fullname=f"{row.firstname} {row.lastname}",
                             email=row.email, idnumber=row.idnumber) for row in rows}  # fmt: skip


def fetch_enrolments_bulk(
    requester: Requester, fetched: Fetched, counted: Counted, known: Mapping[int, User]
) -> None:
    """Calls: local_cetadsync_get_enrolments, core_user_get_users_by_field; with a plugin
    that sends no groups, core_enrol_get_enrolled_users for each course with team submissions."""
    ids = [cid for cid in fetched.courses if cid not in fetched.failures]
    if not ids:
        return
    answer = attempt(lambda: get_enrolments(requester, ids))
    if isinstance(answer, Exception):
        fetched.fail(ids, f"enrolments: {answer}")
        return
    rows, warnings = answer
    if any(row.groups is None for row in rows):
        teams = [
            cid for cid in ids if any(a.teamsubmission for a in fetched.courses[cid].assignments)
        ]
        fetch_enrolments(requester, fetched, counted, teams)
        ids = [cid for cid in ids if cid not in teams]
    for warning in warnings:
        fetched.fail([warning.itemid or 0], f"enrolments: {describe(warning)}")
    unknown = sorted({r.userid for r in rows} - set(known))
    people = attempt(lambda: get_users_by_field(requester, "id", unknown) if unknown else [])
    if isinstance(people, Exception):
        fetched.fail(ids, f"enrolments (users' names): {people}")
        return
    names = {**known, **{user.id: user for user in people}}
    by_course: dict[int, dict[int, list[PluginEnrolment]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_course[row.courseid][row.userid].append(row)
    for cid in ids:
        if cid not in fetched.failures:
            users = by_course.get(cid, {})
            fetched.courses[cid].users = [enrolled(names.get(uid), uid, mine)
                                          for uid, mine in sorted(users.items())]  # fmt: skip
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
