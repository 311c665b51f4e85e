"""Acceptance 2: the token never appears in a repr, a log line, an exception or a logged URL."""

import logging

import pytest

from bearsms_portal.bearsms import BearSMSError, Client
from bearsms_portal.bearsms.client import Secret
from bearsms_portal.bearsms.redaction import redact
from bearsms_portal.bearsms.wire import excerpt

from .support import Response, json_response

TOKEN = "7d0c2f9e4b1a48c6a3e5d7f9b2c4e6a8"
PASSWORD = "hunter2-secret"


def test_repr_and_vars_hide_the_token():
    client = Client("http://127.0.0.1:1", "alice", TOKEN)
    assert TOKEN not in repr(client)
    assert TOKEN not in str(client)
    assert TOKEN not in repr(vars(client))
    assert repr(Secret(TOKEN)) == "Secret('***')"


@pytest.mark.parametrize(
    "text",
    [
        f"u=alice&h={TOKEN}&op=cr",
        f'{{"status":"OK","token":"{TOKEN}"}}',
        f"<response><token>{TOKEN}</token></response>",
        f"login_key={TOKEN}",
        f"p={TOKEN}&op=get_token",
    ],
)
def test_redact_patterns(text):
    assert TOKEN not in redact(text)


def test_redact_known_secret_anywhere():
    assert redact(f"garbage {TOKEN} garbage", [TOKEN]) == "garbage *** garbage"
    assert TOKEN not in excerpt(f"x{TOKEN}x".encode(), [TOKEN])


def _bodies():
    return [
        json_response(f'{{"status":"OK","token":"{TOKEN}'),  # truncated token answer
        json_response(f"Warning: h={TOKEN} at line 3"),  # an echo of the request
        Response(500, "Error", [("Content-Type", "text/html")], f"debug h={TOKEN}".encode()),
        Response(302, "Found", [("Location", f"index.php?app=ws&h={TOKEN}")]),
        Response(200, "OK", [("Content-Type", "text/html")], f"FATAL ERROR {TOKEN}".encode()),
    ]


@pytest.mark.parametrize("response", _bodies(), ids=["truncated", "echo", "500", "302", "fatal"])
def test_errors_and_logs_never_contain_the_token(server, make_client, caplog, response):
    server.default = response
    client = make_client(token=TOKEN, retries=0)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BearSMSError) as info:
        client.set_token()
    exc = info.value
    everything = " ".join([str(exc), repr(exc), repr(vars(exc)), caplog.text])
    assert TOKEN not in everything
    assert PASSWORD not in everything


def test_transport_failure_text_is_redacted(caplog):
    client = Client("http://127.0.0.1:1", "alice", TOKEN, retries=0, method="GET")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BearSMSError) as info:
        client.credit()
    assert TOKEN not in str(info.value) + repr(info.value) + caplog.text


def test_get_mode_urls_in_urllib3_logs_are_redacted(server, make_client, caplog):
    server.default = json_response('{"status":"OK","error":"0","credit":1,"timestamp":1}')
    caplog.set_level(logging.DEBUG, logger="urllib3")
    make_client(token=TOKEN, method="GET").credit()
    assert "op=cr" in caplog.text  # the request line was logged…
    assert TOKEN not in caplog.text  # …without the token


def test_post_keeps_the_token_out_of_the_url(server, make_client, caplog):
    server.default = json_response('{"status":"OK","error":"0","credit":1,"timestamp":1}')
    caplog.set_level(logging.DEBUG)
    make_client(token=TOKEN).credit()
    assert server.received[0].query == {"app": "ws"}
    assert server.received[0].form["h"] == TOKEN
    assert TOKEN not in caplog.text


def test_get_token_password_stays_out_of_errors(server, make_client, caplog):
    server.default = json_response(f"garbage p={PASSWORD}")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BearSMSError) as info:
        make_client(token=None).get_token(PASSWORD)
    assert PASSWORD not in str(info.value) + repr(vars(info.value)) + caplog.text
    assert server.received[0].query == {"app": "ws"}
