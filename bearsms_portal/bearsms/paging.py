"""Reading a whole feed despite the ``c``/``last`` trap.

The server answers ``last=N&c=K`` with the **newest** ``K`` rows whose id is above ``N``
(ordered by time, descending), not the next ``K``: a plain "page after the cursor" loop skips
rows whenever more than ``K`` are new. The only other narrowing the server offers on every feed
is ``dt``, a *substring* filter on the row's ``YYYY-MM-DD hh:mm:ss`` time.

The algorithm (:func:`scan_after`):

1. **Snapshot.** Ask ``last=after&c=K`` with no other filter. If fewer than ``K`` rows come back
   this is everything; otherwise it is the newest ``K``. Its highest id is the snapshot bound
   ``B``: only rows with ``after < id ≤ B`` are yielded by this pass (every one of them existed
   when the pass began, so the scan below finds them all). Rows that arrive during the scan
   have higher ids and may be seen only partly; they are not yielded by this pass, so a
   caller that moves its cursor to the last id it processed never jumps over a row. If the
   scan saw ids above ``B`` (new traffic, or time order unlike id order), another pass starts
   from ``after = B``, up to ``max_passes``.
2. **Time trie.** Every prefix ``P`` of the time string is a window (the decade ``"202"``,
   ``"2026"``, ``"2026-1"``, ``"2026-11"``, … ``"2026-11-28 09:10:4"``, the full second).
   ``scan(P)`` asks ``last=after&dt=P&c=K``:

   - fewer than ``K`` rows → the window is complete;
   - a full page whose oldest time is ``t`` → every row of the window newer than ``t`` is in
     it (the server sorts newest-first before cutting); the rest is found by scanning the child
     windows ``P + ch`` whose first ``len(P)+1`` characters are ``≤ t[:len(P)+1]`` (children
     that are entirely newer than ``t`` are already complete). Separators (``-``, space, ``:``)
     are skipped, and digit positions only try their possible values (months ``0``–``1``…).
   - a full page for a window of one second (ties in time, which the server returns in no
     particular order) cannot be narrowed: its ``c`` is doubled until the answer is short.

   Prefixes shorter than a decade (``"2"``, ``"20"``) would also match the day or the hour, so
   the root's children are decades from the 2000s on. Should a window ever return a superset
   the argument above still holds (it only uses "every row newer than ``t`` is in the
   page"), and rows outside the window are dropped client-side.
3. **Order.** Rows are deduplicated by id and yielded in ascending id order once each pass is
   complete (the server's time order is not id order: scheduled messages keep early ids).

Each answer therefore holds at most ``K`` rows except when more than ``K`` rows share one
second. Empty windows cost one small "no data" answer each. Memory is proportional to the
rows of one pass; the sync calls this regularly, so a pass is usually small.

Limits of any id cursor, which this cannot fix: a row that shows up later with an id below the
cursor (a scheduled ``ds`` message dispatched after newer ones, §4.2) is never returned by
``last``; re-scan such ids explicitly (``delivery_status(smslog_id=…)``/``queue=…``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

#: time layout of every dt field; ``D`` marks a digit, other characters are fixed separators.
DT_TEMPLATE = "DDDD-DD-DD DD:DD:DD"
#: the possible digits per position (tens of month/day/hour/minute/second are bounded).
_DIGITS = "0123456789"
_ALLOWED = {5: "01", 8: "0123", 11: "012", 14: "012345", 17: "012345"}
#: the oldest decade searched (``"200"``: the 2000s); playSMS stores no older times.
FIRST_DECADE = 200


class Row(Protocol):
    raw: dict[str, Any]


#: fetch(after, dt_prefix or None, c) → rows with id > after
Fetch = Callable[[int, str | None, int], Sequence[Any]]


def _dt(row: Any) -> str:
    return str(row.raw.get("dt") or "")


def _valid_dt(text: str) -> bool:
    if len(text) != len(DT_TEMPLATE):
        return False
    pairs = zip(DT_TEMPLATE, text, strict=True)
    return all((t == "D" and ch.isdigit()) or (t != "D" and ch == t) for t, ch in pairs)


def _children(prefix: str, oldest: str) -> tuple[list[str], str]:
    """Child windows of ``prefix`` one digit longer (separators skipped), and the pivot: the
    child window that holds ``oldest``. Children after the pivot need no request."""
    if not prefix:
        # Below three digits a prefix is a substring of the hour, day… too ("0", "20"), so the
        # root's children are decades ("202" only ever matches inside the year), from the
        # 2000s (or the oldest row's decade, if older) up to the oldest row's decade.
        pivot = oldest[:3]
        first = min(int(pivot), FIRST_DECADE)
        return [f"{d:03d}" for d in range(first, int(pivot) + 1)], pivot
    pos = len(prefix)
    while pos < len(DT_TEMPLATE) and DT_TEMPLATE[pos] != "D":
        pos += 1
    if pos >= len(DT_TEMPLATE):
        return [], ""
    base = prefix + DT_TEMPLATE[len(prefix) : pos]
    allowed = set(_ALLOWED.get(pos, _DIGITS)) | {oldest[pos]}
    return [base + ch for ch in sorted(allowed)], oldest[: pos + 1]


class _Scan:
    def __init__(
        self,
        fetch: Callable[[str | None, int], Sequence[Any]],
        id_of: Callable[[Any], int],
        page_size: int,
    ):
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.fetch = fetch
        self.id_of = id_of
        self.page_size = page_size
        self.rows: dict[int, Any] = {}
        self.requests = 0

    def get(self, prefix: str | None, c: int) -> Sequence[Any]:
        self.requests += 1
        return self.fetch(prefix or None, c)

    def keep(self, rows, prefix: str) -> None:
        for row in rows:
            if _dt(row).startswith(prefix):
                self.rows.setdefault(self.id_of(row), row)

    def scan(self, prefix: str, page: Sequence[Any] | None = None) -> None:
        k = self.page_size
        if page is None:
            page = self.get(prefix, k)
        if len(page) < k:
            self.keep(page, prefix)
            return
        oldest = min(_dt(row) for row in page)
        if len(prefix) >= len(DT_TEMPLATE) or not _valid_dt(oldest):
            self.widen(prefix, page)
            return
        self.keep((row for row in page if _dt(row) > oldest), prefix)
        children, pivot = _children(prefix, oldest)
        for child in children:
            if child <= pivot:
                self.scan(child)

    def widen(self, prefix: str, page: Sequence[Any]) -> None:
        """Ties: the window cannot be narrowed any more, so ask for more rows at once."""
        c = self.page_size
        while len(page) >= c:
            c *= 2
            page = self.get(prefix, c)
        self.keep(page, prefix)


def scan_after(
    fetch: Fetch,
    *,
    after: int,
    id_of: Callable[[Any], int],
    page_size: int,
    max_passes: int = 20,
    stats: dict[str, int] | None = None,
) -> Iterator[Any]:
    """Yield every row with id > ``after``, once each, ascending by id.

    ``fetch(after, dt_prefix_or_None, c)`` asks the server. Passes are repeated from the last
    bound while a pass saw rows above its bound (stopping after ``max_passes``; the rest is
    then left for the next call). See the module docstring for the algorithm.
    """
    stats = stats if stats is not None else {}
    stats.setdefault("requests", 0)
    stats.setdefault("passes", 0)
    for _ in range(max_passes):
        scan = _Scan(lambda prefix, c, lo=after: fetch(lo, prefix, c), id_of, page_size)
        root = scan.get(None, page_size)
        stats["passes"] += 1
        if not root:
            stats["requests"] += scan.requests
            return
        bound = max(id_of(row) for row in root)
        scan.scan("", root)
        stats["requests"] += scan.requests
        for row_id in sorted(i for i in scan.rows if i <= bound):
            yield scan.rows[row_id]
        if max(scan.rows, default=bound) <= bound:
            return
        after = bound
