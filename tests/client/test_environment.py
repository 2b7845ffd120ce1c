"""What requests takes from the environment is read once per requester, with the same result:
proxies (and `no_proxy`), a CA bundle and `~/.netrc` still apply, but are not looked up again
on each of a sync's thousands of calls."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses

from tests.client.conftest import ENDPOINT, MakeRequester, reply


def test_proxy_and_ca_bundle_from_the_environment_apply(
    monkeypatch: pytest.MonkeyPatch, make_requester: MakeRequester
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/university-ca.pem")
    req = make_requester()
    assert req._session.proxies["https"] == "http://proxy.example.test:3128"
    assert req._verify == "/etc/ssl/university-ca.pem"
    assert req._session.trust_env is False  # not read again per call


def test_no_proxy_and_an_explicit_bundle_win(
    monkeypatch: pytest.MonkeyPatch, make_requester: MakeRequester
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "moodle.example.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/university-ca.pem")
    req = make_requester(verify_tls="/etc/moodle-sync/site-ca.pem")
    assert "https" not in req._session.proxies
    assert req._verify == "/etc/moodle-sync/site-ca.pem"


def test_netrc_credentials_are_still_sent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_requester: MakeRequester
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine moodle.example.test login gate password opensesame\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    req = make_requester()
    with responses.RequestsMock() as mock:
        reply(mock, "core_webservice_get_site_info")
        req.call("core_webservice_get_site_info")
        assert mock.calls[0].request.headers["Authorization"].startswith("Basic ")
        assert mock.calls[0].request.url == ENDPOINT
