"""Acceptance 2: every error class, the code → class mapping and what errors carry."""

import json

import pytest

from bearsms_portal import bearsms
from bearsms_portal.bearsms import errors

from .conftest import TOKEN
from .support import json_response

SPECIFIC = {
    100: errors.AuthenticationFailed,
    104: errors.TokenNotAvailable,
    105: errors.WebservicesDisabled,
    106: errors.IPNotAllowed,
    200: errors.SendFailed,
    201: errors.EmptyDestinationOrMessage,
    400: errors.NoDeliveryStatus,
    401: errors.StillQueued,
    402: errors.ProcessedNoRows,
    501: errors.NoDataError,
    600: errors.AdminAuthFailed,
    602: errors.MissingSenderOrMessage,
    603: errors.MissingData,
    604: errors.AccountAddFailed,
    605: errors.UnknownUser,
    606: errors.AccountRemoveRefused,
    607: errors.UnknownUser,
    608: errors.ParentUnchanged,
    609: errors.UnknownUser,
    610: errors.NoParent,
    611: errors.UnknownUser,
    612: errors.BanRefused,
    613: errors.UnknownUser,
    614: errors.NotBanned,
    615: errors.MissingData,
    616: errors.AccountPrefFailed,
    617: errors.MissingData,
    618: errors.AccountConfFailed,
    619: errors.MissingData,
    620: errors.ZeroCredit,
    621: errors.MissingData,
    622: errors.InvalidAmount,
    623: errors.MissingData,
    624: errors.InvalidAmount,
    625: errors.MissingData,
    626: errors.LoginKeyFailed,
    627: errors.DuplicateStoplist,
}

CLASSES = {
    1: errors.AuthParamError,
    2: errors.SendError,
    4: errors.DeliveryStatusError,
    5: errors.NoDataError,
    6: errors.AdminError,
}


@pytest.mark.parametrize("code,cls", sorted(SPECIFIC.items()))
def test_specific_codes(code, cls):
    assert errors.error_for_code(code) is cls
    assert issubclass(cls, CLASSES[code // 100])


@pytest.mark.parametrize(
    "code,cls",
    [
        (101, errors.AuthParamError),
        (103, errors.AuthParamError),
        (199, errors.AuthParamError),
        (299, errors.SendError),
        (499, errors.DeliveryStatusError),
        (599, errors.NoDataError),
        (699, errors.AdminError),
        (300, errors.UnknownCodeError),
        (999, errors.UnknownCodeError),
    ],
)
def test_unknown_codes_map_by_class(code, cls):
    assert errors.error_for_code(code) is cls


def test_every_exception_is_exported_and_rooted():
    for name in errors.__all__:
        obj = getattr(bearsms, name)
        if isinstance(obj, type):
            assert issubclass(obj, errors.BearSMSError), name


def test_mixed_in_classes():
    assert issubclass(errors.SendRejected, errors.SendError)
    assert issubclass(errors.SendRejected, errors.ProtocolError)
    assert issubclass(errors.UnknownUserFatal, errors.UnknownUser)
    assert issubclass(errors.InvalidDestination, ValueError)
    assert issubclass(errors.Timeout, errors.TransportError)
    assert issubclass(errors.AuthBlocked, errors.AuthenticationFailed)


@pytest.mark.parametrize("code,cls", sorted(SPECIFIC.items()))
def test_err_answer_raises_the_class_with_code_op_text_info(server, make_client, code, cls):
    envelope = {
        "status": "ERR",
        "error": str(code),
        "info": "why it failed",
        "error_string": f"text {code}",
        "timestamp": 1795856777,
    }
    server.default = json_response(json.dumps(envelope))
    client = make_client(username="admin")
    with pytest.raises(cls) as info:
        client.call("accountpref", data_username="alice")
    exc = info.value
    assert (exc.code, exc.op, exc.message, exc.info) == (
        code,
        "accountpref",
        f"text {code}",
        "why it failed",
    )
    assert str(exc) == f"accountpref: ERR {code} text {code} (why it failed)"
    assert TOKEN not in str(exc) + repr(exc)


def test_627_has_no_text(server, make_client):
    server.default = json_response(
        '{"status":"ERR","error":"627","error_string":null,"timestamp":1795856995}'
    )
    with pytest.raises(errors.DuplicateStoplist) as info:
        make_client().stoplist_add("628555000111")
    assert info.value.code == 627 and info.value.message == ""


def test_error_code_as_xml(server, make_client):
    from .support import Response

    body = (
        b'<?xml version="1.0"?>\n<response><status>ERR</status><error>614</error>'
        b"<error_string>fail to unban account</error_string><timestamp>1</timestamp>"
        b"</response>"
    )
    server.default = Response(200, "OK", [("Content-type", "text/xml;charset=UTF-8")], body)
    with pytest.raises(errors.NotBanned):
        make_client(username="admin", format="xml").account_unban("bob")


@pytest.mark.parametrize(
    "op,code,method",
    [
        ("ds", 400, "delivery_status"),
        ("ds", 401, "delivery_status"),
        ("ds", 402, "delivery_status"),
        ("in", 501, "incoming"),
        ("ix", 501, "inbox"),
        ("sx", 501, "sandbox"),
    ],
)
def test_no_data_codes_are_empty_lists_unless_strict(server, make_client, op, code, method):
    server.default = json_response(
        json.dumps({"status": "ERR", "error": str(code), "error_string": "x", "timestamp": 1})
    )
    client = make_client()
    assert getattr(client, method)() == []
    with pytest.raises(errors.error_for_code(code)):
        getattr(client, method)(strict=True)


def test_listing_raises_real_errors(server, make_client):
    server.default = json_response(
        '{"status":"ERR","error":"100","error_string":"authentication failed","timestamp":1}'
    )
    with pytest.raises(errors.AuthenticationFailed):
        make_client().delivery_status()
