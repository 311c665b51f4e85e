"""The state the capture server was in, rebuilt through the sandbox's own services.

``build(sandbox)`` makes the common world (the accounts, phonebook, rates and traffic the
transcripts refer to). A capture that needs the server in a particular moment (before or after
some call) has a hook here; a hook may also return parameter overrides, for values the real
server allocated (ids, queue codes, login keys) that differ in a fresh sandbox.
"""

from __future__ import annotations

from django.utils import timezone

from bearsms_portal.sandbox import profiles
from bearsms_portal.sandbox.models import Incoming, Level, Outgoing, SandboxUser, WebSession
from bearsms_portal.sandbox.services import accounts, credit, sending

ADMIN_EMAIL = "noreply@playsms.org"


class World:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.tokens: dict[str, str] = {"admin": sandbox.admin_token}
        self.cookie: str | None = None

    # --- helpers --------------------------------------------------------------------------------
    def account(self, username: str) -> SandboxUser:
        return SandboxUser.objects.get(username=username, deleted=False)

    def pv(self, username: str, to: str, msg: str, **fields) -> list[dict]:
        message = sending.Message(to=to, msg=msg, **fields)
        return sending.send(
            account=self.account(username),
            message=message,
            now=timezone.now(),
            sw=profiles.current(),
        )

    def settle(self):
        self.sandbox.settle()

    def remove(self, username: str):
        SandboxUser.objects.filter(username=username).update(deleted=True)

    def user(self, username, **kwargs):
        token = self.sandbox.create_user(username, **kwargs)
        if token:
            self.tokens[username] = token
        return token

    def token_for(self, u: str) -> str:
        if u == ADMIN_EMAIL or u not in self.tokens:
            return self.tokens["admin"]
        return self.tokens[u]


def build(sandbox) -> World:
    world = World(sandbox)
    world.user(
        "alice",
        password="alicepass2",
        name="Alice Example",
        email="alice@example.org",
        mobile="+6281100000002",
        timezone_="+0000",
    )
    world.user("bob", level=Level.SUBACCOUNT, parent="alice", password="bobpass1")
    world.user("carol", level=Level.SUBACCOUNT, password="carolpass1")
    world.user("frank", password="frankpass1")
    world.user("gina", level=Level.SUBACCOUNT, parent="alice", password="ginapass1")
    world.user("hank", level=Level.SUBACCOUNT, password="hankpass1")
    world.user("erin", password="erinpass1")
    sandbox.set_rate("999", 1000)
    sandbox.add_group("admin", "Test Group", "TESTGROUP")
    sandbox.add_contact(
        "admin", "Anton Raharja", "08901230659", email="anton@example.org", groups=["TESTGROUP"]
    )
    sandbox.add_contact("admin", "Budi", "+628111222333", groups=["TESTGROUP"])
    sandbox.add_keyword("admin", "IDOL")
    for number, text in [
        ("628123456789", "hello world"),
        ("628123456790", "hello xml"),
        ("628123456803", "custom sender"),
        ("628123456804", "sent via POST"),
    ]:
        world.pv("admin", number, text)
    world.pv("admin", "#TESTGROUP", "hello group")
    world.pv("alice", "628123456807", "from alice")
    world.pv("alice", "@admin", "hi admin, from alice")
    world.pv("admin", "@alice", "hi alice from admin")
    world.settle()
    return world


# --- hooks: capture number → function(world) -> parameter overrides -----------------------------
def _first_outgoing(world, username="admin") -> Outgoing:
    return Outgoing.objects.filter(user__username=username, dt__isnull=False).order_by("id")[0]


def _admin_credit_50(world):
    credit.set_credit(world.account("admin"), 50)


def _carol_parent(world):
    accounts.set_parent("carol", "alice")


def _unhandled_incoming(world):
    for sender, text, recv in [
        ("628987654323", "random text nobody handles", "1234"),
        ("628987654324", "hello sandbox 2", ""),
        ("+628987654321", "IDOL A", "1234"),
    ]:
        world.sandbox.inject_incoming(sender, text, recvnum=recv)


def _handled_incoming(world):
    world.sandbox.add_keyword(
        "admin", "IDOL", scenarios={"A": "Thanks for voting A", "B": "Thanks for voting B"}
    )
    world.sandbox.inject_incoming("+628987654331", "IDOL A", recvnum="1234")
    world.sandbox.inject_incoming("628987654332", "idol b", recvnum="1234")


def _last_handled(world):
    _handled_incoming(world)
    first = Incoming.objects.filter(state=Incoming.State.HANDLED).order_by("id")[0]
    return {"last": str(first.pk)}


def _ban_bob(world):
    accounts.ban("bob")


def _scheduled_queue(world):
    rows = world.pv("admin", "628123456797", "scheduled message", schedule="2030-01-01 10:00:00")
    return {"queue": rows[0]["queue"]}


def _failed_queue(world):
    try:
        world.pv("admin", "abc", "x")
    except sending.NothingQueued as failure:
        return {"queue": failure.queue_code}
    raise AssertionError("pv to abc should queue nothing")


def _waiting(world):
    return world.pv("admin", "628123456950", "queued while daemon stopped")[0]


def _dispatched(world, text="queued while daemon stopped", number="628123456950"):
    row = world.pv("admin", number, text)[0]
    world.settle()
    return row


def _login_key(world):
    return {"login_key": accounts.set_login_key("alice")}


def _web_session(world):
    world.cookie = WebSession.objects.create(
        session_id="capture209session", user=world.account("alice")
    ).session_id


HOOKS = {
    22: lambda w: w.remove("alice"),
    25: lambda w: w.remove("carol"),
    38: _carol_parent,
    44: lambda w: w.remove("gina"),
    47: lambda w: w.remove("erin"),
    82: lambda w: SandboxUser.objects.filter(username="alice").update(enable_webservices=False),
    83: lambda w: SandboxUser.objects.filter(username="alice").update(webservices_ip="10.9.9.9"),
    94: _admin_credit_50,
    95: _admin_credit_50,
    122: lambda w: {"last": str(_first_outgoing(w).pk)},
    124: lambda w: {"smslog_id": str(_first_outgoing(w).pk)},
    125: lambda w: {"queue": _first_outgoing(w).queue.code},
    127: _scheduled_queue,
    137: _failed_queue,
    157: _unhandled_incoming,
    158: _unhandled_incoming,
    161: _admin_credit_50,
    164: _handled_incoming,
    166: _handled_incoming,
    167: _last_handled,
    169: _handled_incoming,
    173: lambda w: w.sandbox.stoplist("628555000111"),
    193: _login_key,
    197: _ban_bob,
    199: _ban_bob,
    200: _ban_bob,
    209: _web_session,
    211: lambda w: {"queue": _waiting(w)["queue"]},
    212: lambda w: {"smslog_id": str(_waiting(w)["smslog_id"])},
    214: lambda w: {"queue": _dispatched(w)["queue"]},
    215: lambda w: {"smslog_id": str(_dispatched(w)["smslog_id"])},
    217: lambda w: {
        "smslog_id": str(_dispatched(w, 'say "hi" &amp; bold', "628123456960")["smslog_id"])
    },
    218: lambda w: {
        "smslog_id": str(_dispatched(w, 'say "hi" &amp; bold', "628123456960")["smslog_id"])
    },
}

# Captures made on the server with the PHP-8 template patch (see server-findings.md).
SWITCHES = {43: {"accountadd_500": False}, 44: {"accountadd_500": False}}
