"""The push on the core path: core web services alone.

Calls: core_message_send_instant_messages (reminders), core_user_update_users (profile
fields; `check` proves they exist by writing the integration user's own), and, to settle rows
in doubt, core_webservice_get_site_info and core_message_get_messages. Core Moodle keeps no
progression records: the pages that show them are local_cetadsync's.

Settling: a row is ``sending`` when its batch went out and no outcome was recorded: the
process died, or the answer was lost. Moodle does not de-duplicate, so resending blindly could
send it twice; not resending could lose it. Moodle lists what a user sent, newest first
(``core_message_get_messages``, trap 15), and every message ends with ``Ref: <outbox key>``:

- found (same recipient, same key)          -> ``sent``, with Moodle's message id
- absent, and the list provably reaches back
  past the batch's start, and the batch is
  older than the settle time                -> ``planned`` again: it never arrived; like any
                                               planned row it is checked again (window, reason)
                                               at the moment it is claimed
- anything else                             -> stays ``sending`` and is reported in doubt

"Provably reaches back" means the listing either ended (Moodle has nothing older) or showed a
message older than the earliest batch start minus ``CLOCK_MARGIN`` (clock skew between us and
Moodle). The settle time (the client's read timeout by default) covers a request that Moodle
is still executing when we look: until it has passed, absence proves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client.messages import OutgoingMessage, get_messages, send_instant_messages
from moodle_sync.client.models import MessageResult, Result, SentMessage
from moodle_sync.client.requester import Requester
from moodle_sync.client.site import get_site_info
from moodle_sync.client.users import UserUpdate, update_users
from moodle_sync.push import outbox, profile
from moodle_sync.push.outbox import Delivered
from moodle_sync.push.writer import InDoubtReport
from moodle_sync.store.tables import OutboxMessage

if TYPE_CHECKING:
    from moodle_sync.cohort.facts import Evaluation

__all__ = ["CLOCK_MARGIN", "CoreWrites", "resolve_in_doubt"]

CLOCK_MARGIN = timedelta(minutes=5)
PAGE_SIZE = 100
MAX_PAGES = 100  # 10,000 messages back; beyond that the rows stay in doubt, reported
_MARKER = re.compile(r"Ref: ([A-Za-z0-9_-]+)")


@dataclass
class CoreWrites:
    """Writes through core web services, as the integration user."""

    requester: Requester

    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]:
        """Calls: core_message_send_instant_messages."""
        return send_instant_messages(self.requester, messages)

    def settle(self, sessions: sessionmaker[Session], now: datetime) -> InDoubtReport:
        """Calls: core_webservice_get_site_info, then core_message_get_messages (paged)."""
        userid = get_site_info(self.requester).userid
        return resolve_in_doubt(self.requester, sessions, userid, now)

    def update_users(self, updates: Sequence[UserUpdate]) -> Result[list[int]]:
        """Calls: core_user_update_users."""
        return update_users(self.requester, updates)

    def save_progression(
        self,
        evaluation: Evaluation,
        sessions: sessionmaker[Session],
        now: datetime,
        run_id: int | None,
        only_user: int | None,
        resend: bool,
    ) -> int:
        """Core Moodle has nowhere to keep a progression record: nothing is sent."""
        return 0

    def field_problems(
        self, userid: int, functions: Sequence[str], fields: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """A probe value written to the integration user's own profile must come back;
        whether the fields are locked no core function says (a note)."""
        note = profile.unverified_lock_note(fields)
        if {"core_user_update_users", "core_user_get_users_by_field"} - set(functions):
            # the proof writes and reads back: the missing function is named already
            return [f"profile fields {', '.join(fields)} not proved: the service lacks the "
                    "functions to write and read them"], [note]  # fmt: skip
        absent = profile.prove_profile_fields(self.requester, userid, fields)
        problems = [f"missing profile field: {profile.missing_field_problem(n)}" for n in absent]
        return problems, [note]


@dataclass
class _Listing:
    messages: list[SentMessage]
    covered: bool
    pages: int


def resolve_in_doubt(
    requester: Requester,
    sessions: sessionmaker[Session],
    integration_userid: int,
    now: datetime,
    *,
    settle: timedelta | None = None,
) -> InDoubtReport:
    """Calls: core_message_get_messages (paged). Settle every ``sending`` row it can.

    ``now`` (the run's clock) stamps the changes; whether a batch has settled is judged on the
    wall clock, because that is the clock ``sending_started_at`` was taken from.
    """
    with sessions() as session:
        rows = outbox.in_doubt_rows(session)
    report = InDoubtReport(checked=len(rows))
    if not rows:
        return report
    window_start = min(_started(row) for row in rows) - CLOCK_MARGIN
    listing = _list_sent(requester, integration_userid, window_start, {r.key for r in rows})
    report.pages_read, report.covered = listing.pages, listing.covered
    found = _match(rows, listing.messages, now)
    settled_before = datetime.now(UTC) - (_default_settle(requester) if settle is None else settle)
    absent = [
        row
        for row in rows
        if row.id not in found and listing.covered and _started(row) <= settled_before
    ]
    report.found_sent = [row.key for row in rows if row.id in found]
    report.returned_to_planned = [row.key for row in absent]
    gone = set(found) | {row.id for row in absent}
    report.still_in_doubt = [row.key for row in rows if row.id not in gone]
    with sessions.begin() as session:
        outbox.mark_sent(session, list(found.values()), now)
        outbox.requeue(session, [row.id for row in absent], now)
    return report


def _list_sent(
    requester: Requester, userid: int, window_start: datetime, wanted: set[str]
) -> _Listing:
    """Page back through what ``userid`` sent until past ``window_start`` or every key is seen."""
    messages: list[SentMessage] = []
    seen: set[str] = set()
    for page in range(MAX_PAGES):
        batch = get_messages(requester, userid, limitfrom=page * PAGE_SIZE, limitnum=PAGE_SIZE)
        messages.extend(batch)
        seen.update(key for m in batch for key in _MARKER.findall(m.text))
        if len(batch) < PAGE_SIZE or _reaches_back(batch, window_start):
            return _Listing(messages, covered=True, pages=page + 1)
        if wanted <= seen:
            return _Listing(messages, covered=False, pages=page + 1)
    return _Listing(messages, covered=False, pages=MAX_PAGES)


def _reaches_back(batch: Sequence[SentMessage], window_start: datetime) -> bool:
    oldest = batch[-1].timecreated
    return oldest is not None and oldest < window_start


def _match(
    rows: Iterable[OutboxMessage], messages: Iterable[SentMessage], now: datetime
) -> dict[int, Delivered]:
    """Rows whose key and recipient appear in Moodle; the oldest copy wins if there are two.
    `sent_at` is when the run learnt it (its clock), so a person's history reads in order."""
    by_key = {row.key: row for row in rows}
    found: dict[int, Delivered] = {}
    for message in messages:  # newest first: a later (older) copy overwrites
        for key in _MARKER.findall(message.text):
            row = by_key.get(key)
            if row is not None and row.recipient_id == message.useridto:
                found[row.id] = Delivered(row.id, message.id, now)
    return found


def _started(row: OutboxMessage) -> datetime:
    return row.sending_started_at or row.updated_at


def _default_settle(requester: Requester) -> timedelta:
    return timedelta(seconds=requester.settings.read_timeout)
