"""Secrets never reach the log output, in any of the shapes they are written in."""

import io
import logging

import pytest
import requests

from bearsms_portal.logging import RedactingFormatter, redact

TOKEN = "5f2b9c1d7e8a4b6c9d0e1f2a3b4c5d6e"


@pytest.mark.parametrize(
    "text",
    [
        f"POST /index.php?app=ws&u=alice&h={TOKEN}&op=ds",
        f"u=alice&h={TOKEN}&op=pv",
        f"{{'u': 'alice', 'h': '{TOKEN}', 'op': 'cr'}}",
        f'{{"token": "{TOKEN}"}}',
        f"Client(username='alice', token='{TOKEN}')",
        f"login_key={TOKEN}&x=1",
        f"data_password={TOKEN}",
        f"p={TOKEN}",
    ],
)
def test_redact_removes_secret_values(text):
    assert TOKEN not in redact(text)


def test_redact_keeps_other_parameters():
    assert redact("app=ws&op=pv&u=alice&h=abc") == "app=ws&op=pv&u=alice&h=***"


@pytest.fixture
def captured_console():
    """Swap the stream of the configured console handler (the real one) for a buffer."""
    handler = next(
        h for h in logging.getLogger().handlers if isinstance(h.formatter, RedactingFormatter)
    )
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    urllib3 = logging.getLogger("urllib3")
    old_level = urllib3.level
    urllib3.setLevel(logging.DEBUG)
    yield buffer
    urllib3.setLevel(old_level)
    handler.setStream(old)


def test_real_request_url_with_token_is_redacted(live_server, captured_console):
    url = f"{live_server.url}/healthz?app=ws&u=admin&h={TOKEN}&op=cr"
    requests.get(url, timeout=30)
    logging.getLogger("bearsms_portal").warning("calling %s with %r", url, {"h": TOKEN})
    try:
        raise ValueError(f"bad answer for {url}")
    except ValueError:
        logging.getLogger("bearsms_portal").exception("failure")
    output = captured_console.getvalue()
    assert "/healthz?app=ws&u=admin&h=***" in output  # urllib3 logged the request line
    assert TOKEN not in output


@pytest.mark.parametrize(
    "text",
    [
        f"<response><login_key>{TOKEN}</login_key></response>",
        f'{{"status": "OK", "token": "{TOKEN}"}}',
        f"admin_token={TOKEN}",
        f"{{'data_password': '{TOKEN}'}}",
    ],
)
def test_redact_covers_client_shapes_too(text):
    assert TOKEN not in redact(text)


def test_html_paragraphs_are_not_taken_for_passwords():
    assert redact("<p>Service unavailable</p>") == "<p>Service unavailable</p>"


def test_one_list_of_secret_names_everywhere():
    from bearsms_portal.bearsms import redaction

    assert redact is redaction.redact
    answer = {"token": TOKEN, "data": [{"login_key": TOKEN, "u": "alice"}], "p": ""}
    assert redaction.redact_params(answer) == {
        "token": redaction.MASK,
        "data": [{"login_key": redaction.MASK, "u": "alice"}],
        "p": "",
    }
