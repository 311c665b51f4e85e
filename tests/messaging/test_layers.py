"""The messaging app's layers: services for writes, selectors for reads, tasks call services —
and no module imports another that imports it back (not even inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from messaging.models import SyncCursor
from messaging.services.pulls import request_pull_now

from .conftest import link_account, portal_user

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every module of the app that ``path`` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = f"{base}.{node.module}" if node.level and node.module else node.module or base
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def import_graph(app: str) -> dict[str, set[str]]:
    files = {
        _module_name(p): p
        for p in (ROOT / app).rglob("*.py")
        if "migrations" not in p.parts and "tests" not in p.parts
    }
    return {name: _imports(path, name) & set(files) - {name} for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_messaging_has_no_import_cycle():
    graph = import_graph("messaging")
    assert "messaging.services.exports" in graph["messaging.tasks"]
    assert cycles(graph) == []


def test_the_sync_command_uses_public_functions_only():
    source = (ROOT / "messaging/management/commands/sync.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert not node.attr.startswith("_"), f"{node.value.id}.{node.attr}"


@pytest.mark.django_db(transaction=True)
def test_pull_now_is_for_operators_and_a_refusal_is_audited(client, sandbox_documented):
    alice = link_account(sandbox_documented, "alice")
    from messaging import sync

    sync.ensure_cursors()
    cursor = SyncCursor.objects.filter(account=alice).first()
    SyncCursor.objects.filter(pk=cursor.pk).update(next_pull_at=None)
    reseller = portal_user("alice-user", role="reseller", account=alice)
    with pytest.raises(PermissionDenied):
        request_pull_now(actor=reseller, cursor=cursor)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.actor) == ("pullnow", "refused", reseller)
    cursor.refresh_from_db()
    assert cursor.next_pull_at is None

    client.force_login(portal_user("op", role="operator"))
    response = client.post(reverse("messaging:sync_now", args=[cursor.pk]))
    assert response.status_code == 302
    cursor.refresh_from_db()
    assert cursor.next_pull_at <= timezone.now()
