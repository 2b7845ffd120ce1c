"""Moodle's bracket encoding, the variable budget and chunking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodle_sync.client.params import (
    RESERVED_VARS,
    build_form,
    chunk_rows,
    encode,
    merge_responses,
)
from moodle_sync.errors import RequestTooLargeError
from tests.client.conftest import recording


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"courseid": 5}, [("courseid", "5")]),
        ({"flag": True, "other": False}, [("flag", "1"), ("other", "0")]),
        ({"since": None, "x": 1}, [("x", "1")]),
        ({"ids": [], "x": 1}, [("x", "1")]),
        ({"ids": [3, 1]}, [("ids[0]", "3"), ("ids[1]", "1")]),
        ({"messages": [{"touserid": 3}]}, [("messages[0][touserid]", "3")]),
        (
            {"users": [{"id": 8, "customfields": [{"type": "a", "value": ""}, {"type": "b"}]}]},
            [
                ("users[0][id]", "8"),
                ("users[0][customfields][0][type]", "a"),
                ("users[0][customfields][0][value]", ""),
                ("users[0][customfields][1][type]", "b"),
            ],
        ),
        ({"options": {"ids": [7]}}, [("options[ids][0]", "7")]),
        ({"grade": Decimal("63.5")}, [("grade", "63.5")]),
        ({"since": datetime(2026, 1, 1, tzinfo=UTC)}, [("since", "1767225600")]),
    ],
    ids=[
        "int",
        "booleans",
        "none",
        "empty-list",
        "list",
        "structs",
        "nested",
        "dict",
        "decimal",
        "datetime",
    ],
)
def test_encode_uses_php_brackets(params: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert encode(params) == expected


def test_datetime_in_another_zone_is_sent_as_the_same_instant() -> None:
    moment = datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert encode({"since": moment}) == [("since", "1767225600")]


@pytest.mark.parametrize("bad", [datetime(2026, 1, 1), object(), {1, 2}])
def test_values_moodle_cannot_take_are_refused_before_sending(bad: object) -> None:
    with pytest.raises((TypeError, ValueError), match="since"):
        encode({"since": bad})


@pytest.mark.parametrize(
    "name",
    [
        "core_user_update_users__customfields",
        "core_message_send_instant_messages",
        "mod_assign_get_assignments",
        "core_enrol_get_enrolled_users__suspended_in_lotc",
    ],
)
def test_encoding_reproduces_the_recorded_form(name: str) -> None:
    rec = recording(name)
    sent = [(key, str(value)) for key, value in rec["params"].items()]
    fields = sent[RESERVED_VARS:]
    params = _unflatten(fields)
    assert build_form("TOKEN-INTEGRATION-USER", rec["function"], params, 900) == sent


def _unflatten(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """Rebuild nested params from a recorded form (lists become dicts keyed by index)."""
    root: dict[str, Any] = {}
    for key, value in fields:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    rebuilt: dict[str, Any] = _lists(root)
    return rebuilt


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _lists(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def test_reserved_variables_come_first_so_php_cannot_drop_the_token() -> None:
    form = build_form("tok", "mod_assign_get_submissions", {"assignmentids": [1, 2]}, 900)
    assert [key for key, _ in form[:3]] == ["wstoken", "wsfunction", "moodlewsrestformat"]
    assert form[2] == ("moodlewsrestformat", "json")


def test_a_request_over_the_variable_budget_is_refused_with_the_numbers() -> None:
    with pytest.raises(RequestTooLargeError, match=r"1003 form variables exceed the budget of 900"):
        build_form("tok", "mod_assign_get_submissions", {"ids": list(range(1000))}, 900)


@given(
    ids=st.lists(st.integers(min_value=1, max_value=10**6), max_size=700),
    budget=st.integers(min_value=10, max_value=400),
    max_rows=st.integers(min_value=1, max_value=250),
)
def test_chunks_fit_the_budget_and_keep_every_id_in_order(
    ids: list[int], budget: int, max_rows: int
) -> None:
    fixed = {"since": 5, "flag": True}
    chunks = list(chunk_rows(ids, "ids", fixed=fixed, budget=budget, max_rows=max_rows))
    assert [i for chunk in chunks for i in chunk] == ids
    for chunk in chunks:
        assert 0 < len(chunk) <= max_rows
        assert len(build_form("t", "f", {**fixed, "ids": chunk}, budget)) <= budget


def test_chunks_of_structures_count_every_nested_variable() -> None:
    rows = [{"id": n, "customfields": [{"type": "a", "value": "x"}] * 3} for n in range(50)]
    chunks = list(chunk_rows(rows, "users", fixed=None, budget=100, max_rows=200))
    assert [len(chunk) for chunk in chunks] == [13, 13, 13, 11]  # 7 variables a row, 97 room


def test_a_row_that_alone_exceeds_the_budget_is_refused() -> None:
    with pytest.raises(RequestTooLargeError, match="one 'users' entry needs"):
        list(chunk_rows([{"a": list(range(50))}], "users", fixed=None, budget=20, max_rows=5))


def test_merge_joins_lists_and_the_list_values_of_objects() -> None:
    parts = [
        {"assignments": [1], "warnings": [{"w": 1}]},
        {"assignments": [2], "warnings": []},
    ]
    assert merge_responses(parts) == {"assignments": [1, 2], "warnings": [{"w": 1}]}
    assert merge_responses([[1], [2, 3]]) == [1, 2, 3]
    assert merge_responses([]) == []
