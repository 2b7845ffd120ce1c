"""The bracket-form decoder and Moodle's strict parameter validation."""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.sandbox.errors import WsError
from moodle_sync.sandbox.params import ListOf, Scalar, Struct, decode_form, ids, validate

MESSAGES = Struct(
    {
        "messages": ListOf(
            Struct(
                {
                    "touserid": Scalar("int"),
                    "textformat": Scalar("int", "default", 0),
                    "clientmsgid": Scalar("alphanumext", "optional"),
                }
            )
        )
    }
)
SUBMISSIONS = Struct(
    {
        "assignmentids": ids(),
        "since": Scalar("int", "default", 0),
        "includenotenrolledcourses": Scalar("bool", "default", False),
        "status": Scalar("text", "default", ""),
    }
)


def test_decode_nests_brackets_and_appends_empty_indices() -> None:
    pairs = [("a[0][b]", "1"), ("a[0][c][d]", "2"), ("x[]", "5"), ("x[]", "7"), ("y", "z")]
    assert decode_form(pairs) == {
        "a": {"0": {"b": "1", "c": {"d": "2"}}},
        "x": {"0": "5", "1": "7"},
        "y": "z",
    }


def test_list_ignores_index_values_and_keeps_order() -> None:
    data = decode_form([("assignmentids[7]", "3"), ("assignmentids[2]", "9")])
    assert validate(SUBMISSIONS, data)["assignmentids"] == [3, 9]


def test_defaults_are_filled_and_optional_keys_stay_absent() -> None:
    data = decode_form([("messages[0][touserid]", "5")])
    assert validate(MESSAGES, data) == {"messages": [{"touserid": 5, "textformat": 0}]}


@pytest.mark.parametrize(
    ("pairs", "why"),
    [
        ([("assignmentids[0]", "05")], "int with a leading zero"),
        ([("assignmentids[0]", "abc")], "int that is not a number"),
        ([("assignmentids[0]", "")], "empty int"),
        ([("assignmentids[0]", "1"), ("includenotenrolledcourses", "true")], "bool as 'true'"),
        ([("assignmentids[0]", "1"), ("since", "1.5")], "float for int"),
        ([("assignmentids[0]", "1"), ("status", "<b>x</b>")], "HTML in a text field"),
        ([("assignmentids[0]", "1"), ("foo", "bar")], "unexpected key"),
        ([], "required list omitted"),
        ([("assignmentids", "")], "x= : scalar for a list"),
        ([("assignmentids[]", "")], "x[]= : one empty element"),
        ([("assignmentids", "1")], "scalar for a list"),
        ([("assignmentids[0][x]", "1")], "structure for a scalar"),
    ],
)
def test_invalid_input_fails_the_whole_call(pairs: list[tuple[str, str]], why: str) -> None:
    with pytest.raises(WsError) as caught:
        validate(SUBMISSIONS, decode_form(pairs))
    assert caught.value.errorcode == "invalidparameter", why
    assert caught.value.envelope() == {
        "exception": "invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": "Invalid parameter value detected",
    }


@pytest.mark.parametrize("clientmsgid", ["a.b", "a b", "a:b", "ä"])
def test_clientmsgid_outside_alphanumext_is_refused(clientmsgid: str) -> None:
    data = decode_form([("messages[0][touserid]", "5"), ("messages[0][clientmsgid]", clientmsgid)])
    with pytest.raises(WsError, match="invalidparameter"):
        validate(MESSAGES, data)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", False), ("1", True)],
)
def test_bool_accepts_only_zero_and_one(value: str, expected: bool) -> None:
    data: dict[str, Any] = {"assignmentids": {"0": "1"}, "includenotenrolledcourses": value}
    assert validate(SUBMISSIONS, data)["includenotenrolledcourses"] is expected


def test_debuginfo_names_the_problem_only_when_debugging() -> None:
    with pytest.raises(WsError) as caught:
        validate(SUBMISSIONS, decode_form([("assignmentids[0]", "1"), ("foo", "x")]))
    assert "debuginfo" not in caught.value.envelope()
    assert "Unexpected keys (foo)" in caught.value.envelope(debug=True)["debuginfo"]
