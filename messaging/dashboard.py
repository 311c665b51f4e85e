"""Dashboard figures, from the daily rows the sync maintains (never a count over messages)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.balances import balance_of, total_balance, with_balances
from accounts.roles import is_operator, role_of
from accounts.selectors import accounts_visible_to

from .selectors import daily_stats_visible_to

FIGURES = ("sent", "delivered", "failed", "incoming")
CHART_DAYS = 30


@dataclass
class Figures:
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    incoming: int = 0

    def add(self, row: dict) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + int(row.get(name) or 0))

    @property
    def delivery_rate(self) -> float | None:
        return round(100.0 * self.delivered / self.sent, 1) if self.sent else None


@dataclass
class Summary:
    """Today / 7 days / 30 days for one account or a group of accounts."""

    label: str
    credit: Decimal | None = None
    today: Figures = field(default_factory=Figures)
    week: Figures = field(default_factory=Figures)
    month: Figures = field(default_factory=Figures)
    account: object = None
    members: list = field(default_factory=list)

    def add(self, row: dict, today: date) -> None:
        age = (today - row["day"]).days
        if age == 0:
            self.today.add(row)
        if age < 7:
            self.week.add(row)
        if age < 30:
            self.month.add(row)


def _chart(per_day: dict[date, Figures], today: date) -> dict:
    """Bars for the last 30 days as SVG coordinates (rendered inline, no JavaScript)."""
    days = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    peak = max([per_day[d].sent for d in days] + [per_day[d].incoming for d in days] + [1])
    width, height, gap = 24, 160, 4
    bars = []
    for i, day in enumerate(days):
        f = per_day[day]
        x = i * (width + gap)

        def h(value):
            return round(height * value / peak, 1)

        bars.append(
            {
                "day": day,
                "x": x,
                "sent": f.sent,
                "delivered": f.delivered,
                "failed": f.failed,
                "incoming": f.incoming,
                "h_sent": h(f.sent),
                "y_sent": height - h(f.sent),
                "h_delivered": h(f.delivered),
                "y_delivered": height - h(f.delivered),
                "h_failed": h(f.failed),
                "y_failed": height - h(f.failed),
                "w": width,
                "label": i % 5 == 0,
            }
        )
    return {"bars": bars, "width": CHART_DAYS * (width + gap), "height": height, "peak": peak}


def dashboard_for(user) -> dict:
    today = timezone.localdate()
    accounts = {a.pk: a for a in with_balances(accounts_visible_to(user))}
    rows = list(
        daily_stats_visible_to(user)
        .filter(day__gt=today - timedelta(days=CHART_DAYS))
        .values("account_id", "day", *FIGURES)
    )
    total = Summary(label="All accounts")
    per_account: dict[int, Summary] = {}
    per_day: dict[date, Figures] = defaultdict(Figures)
    for account_id, account in accounts.items():
        per_account[account_id] = Summary(
            label=account.username, credit=balance_of(account).balance, account=account
        )
    for row in rows:
        total.add(row, today)
        per_day[row["day"]].add(row)
        summary = per_account.get(row["account_id"])
        if summary is not None:
            summary.add(row, today)
    total.credit = total_balance(balance_of(a) for a in accounts.values())

    # Groups: a reseller with its subaccounts (operators and resellers see these).
    groups = []
    if is_operator(user) or role_of(user) == "reseller":
        by_parent: dict[int, list[Summary]] = defaultdict(list)
        for summary in per_account.values():
            parent_id = summary.account.parent_id
            if parent_id in per_account:
                by_parent[parent_id].append(summary)
        for parent_id, members in sorted(
            by_parent.items(), key=lambda kv: per_account[kv[0]].label
        ):
            head = per_account[parent_id]
            group = Summary(
                label=f"{head.label} + {len(members)} subaccount(s)",
                account=head.account,
                members=members,
            )
            for row in rows:
                if row["account_id"] == parent_id or any(
                    m.account.pk == row["account_id"] for m in members
                ):
                    group.add(row, today)
            groups.append(group)
    return {
        "total": total,
        "accounts": sorted(per_account.values(), key=lambda s: s.label),
        "groups": groups,
        "chart": _chart(per_day, today),
        "today": today,
    }
