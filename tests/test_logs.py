"""The logging safety net scrubs secrets from every record, whatever logged it."""

from __future__ import annotations

import logging

import pytest

from moodle_sync.logs import REDACTED, configure_logging


def test_a_secret_in_a_log_record_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", ["s3cr3t-token"])
    logging.getLogger("anything").debug("POST %s", "https://m.example/?wstoken=s3cr3t-token")
    err = capsys.readouterr().err
    assert "s3cr3t-token" not in err
    assert f"wstoken={REDACTED}" in err


def test_a_secret_added_later_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    secret_filter = configure_logging("INFO")
    secret_filter.add("late-key")
    logging.getLogger("anything").info("key late-key")
    assert "late-key" not in capsys.readouterr().err
