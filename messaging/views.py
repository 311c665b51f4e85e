"""Message pages: the four feed lists, message detail, exports, sync health, the dashboard.

Thin views: every row comes through :mod:`messaging.selectors` (scoping), every object by id
through ``get_object_or_404`` on a scoped queryset — another reseller's id is a 404.
"""

from __future__ import annotations

import mimetypes
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from accounts.clients import guard_report
from accounts.errors import ServiceError
from accounts.models import PortalProfile
from accounts.roles import is_operator, role_of
from accounts.services import auth_retry_now
from bearsms_portal.csvfile import streamed_csv
from bearsms_portal.pages import run_service
from bearsms_portal.paging import per_page

from . import exports, sync
from .dashboard import dashboard_for
from .filters import FILTERS, describe
from .models import Export, Feed
from .pagination import paginate
from .selectors import (
    cursors_visible_to,
    estimated_total,
    export_rows,
    exports_visible_to,
    messages_visible_to,
)
from .services.exports import retry_export, start_export
from .services.pulls import request_pull_now
from .tables import SORTS, TABLES

PAGE_SIZE = 50  # rows of a list page unless ?per_page= asks for another (1-200)
TABLE_FRAGMENT_HEADER = "X-Table-Only"
LIST_REFRESH_SECONDS = 5  # the sync pulls every few seconds; a list follows it at this pace
FEED_SLUGS = {
    "outgoing": Feed.OUTGOING,
    "incoming": Feed.INCOMING,
    "inbox": Feed.INBOX,
    "sandbox": Feed.SANDBOX,
}
SLUG_OF = {feed: slug for slug, feed in FEED_SLUGS.items()}
#: the pager's words for the two ends of a list, by sort (other sorts: first and last page)
_END_WORDS = {"-time": ("Newest", "Oldest"), "time": ("Oldest", "Newest")}


def _feed_or_404(request, feed: str) -> str:
    if feed not in SLUG_OF:
        raise Http404
    if feed == Feed.SANDBOX and not is_operator(request.user):
        raise Http404
    return feed


def _filter_query(request) -> str:
    params = request.GET.copy()
    for key in ("after", "before", "sort", "format", "background", "per_page", "oldest"):
        params.pop(key, None)
    return params.urlencode()


@login_required
def message_list(request, slug: str):
    feed = FEED_SLUGS.get(slug)
    if feed is None:
        raise Http404
    _feed_or_404(request, feed)
    filterset = FILTERS[feed](
        request.GET or None, queryset=messages_visible_to(request.user, feed), user=request.user
    )
    qs = filterset.qs  # an invalid filter: its errors and no rows (bearsms_portal.filtering)
    sorts = SORTS[feed]
    sort = request.GET.get("sort") or "-time"
    name = sort.removeprefix("-")
    refused = None
    if name not in sorts:
        refused, sort, name = name, "-time", "time"
    page = paginate(
        qs,
        sorts[name],
        descending=sort.startswith("-"),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        oldest=bool(request.GET.get("oldest")),
        size=per_page(request, PAGE_SIZE),
    )
    hidden = ("account",) if role_of(request.user) == PortalProfile.Role.SUBACCOUNT else ()
    table = TABLES[feed](page.rows, order_by=sort, exclude=hidden)
    base = request.GET.copy()
    for key in ("after", "before", "oldest"):
        base.pop(key, None)
    if refused is not None:
        base.pop("sort", None)

    def link(**extra):
        params = base.copy()
        for key, value in extra.items():
            params[key] = value
        return "?" + params.urlencode()

    if not page.has_other_pages:
        total = len(page.rows)  # everything is on this page: the exact figure, for free
    else:
        filtered = filterset.is_bound and any(filterset.form.cleaned_data.values())
        total = estimated_total(request.user, feed, qs, filtered=filtered)
        total = None if total is None else max(total, len(page.rows))
    ends = _END_WORDS.get(sort, ("First", "Last"))
    # The page's script asks for the table alone (same URL, one header) to keep it current.
    fragment = request.headers.get(TABLE_FRAGMENT_HEADER) == "1"
    response = render(
        request,
        "messaging/_list_table.html" if fragment else "messaging/list.html",
        {
            "feed": feed,
            "slug": slug,
            "title": dict(Feed.choices)[feed],
            "filter": filterset,
            "table": table,
            "page": page,
            "next_url": link(after=page.next_token) if page.next_token else None,
            "prev_url": link(before=page.prev_token) if page.prev_token else None,
            "first_url": link() if page.prev_token else None,
            "last_url": link(oldest=1) if page.next_token else None,
            "first_label": ends[0],
            "last_label": ends[1],
            "total": total,
            "exact_total": not page.has_other_pages,
            "sort_refused": refused,
            "sort_names": list(sorts),
            "filter_query": _filter_query(request),
            "refresh_seconds": LIST_REFRESH_SECONDS,
        },
    )
    patch_vary_headers(response, [TABLE_FRAGMENT_HEADER])
    return response


@login_required
def message_detail(request, feed: str, pk: int):
    feed = _feed_or_404(request, feed)
    message = get_object_or_404(messages_visible_to(request.user, feed), pk=pk)
    return render(
        request,
        "messaging/detail.html",
        {
            "feed": feed,
            "slug": SLUG_OF[feed],
            "title": dict(Feed.choices)[feed],
            "message": message,
        },
    )


@login_required
def export(request, slug: str, fmt: str):
    """GET: a small export streams at once; a big one (or ``?background=1``) shows the page
    that starts it — by a POST, as starting background work always is."""
    feed = FEED_SLUGS.get(slug)
    if feed is None or fmt not in Export.Format.values:
        raise Http404
    _feed_or_404(request, feed)
    query = _filter_query(request)
    if request.method == "POST":
        ran = run_service(request, start_export, feed=feed, fmt=fmt, query=query)
        if ran:
            return redirect("messaging:export_detail", pk=ran.result.pk)
        return redirect("messaging:exports")
    rows = export_rows(request.user, feed, query)
    inline_max = (
        settings.EXPORT_INLINE_MAX_ROWS
        if fmt == Export.Format.CSV
        else settings.EXPORT_INLINE_MAX_XLSX_ROWS
    )
    if request.GET.get("background") or rows[: inline_max + 1].count() > inline_max:
        return render(
            request,
            "messaging/export_start.html",
            {
                "feed": feed,
                "slug": slug,
                "title": dict(Feed.choices)[feed],
                "format_label": dict(Export.Format.choices)[fmt],
                "filter_words": describe(feed, query, request.user),
                "query": query,
                "big": not request.GET.get("background"),
            },
        )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    filename = f"{slug}-{stamp}.{fmt}"
    if fmt == Export.Format.CSV:
        return streamed_csv(filename, exports.csv_stream(feed, rows))
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (closed by the response)
    exports.write_xlsx(Path(handle.name), feed, rows)
    return FileResponse(open(handle.name, "rb"), as_attachment=True, filename=filename)  # noqa: SIM115


@login_required
def export_list(request):
    jobs = list(exports_visible_to(request.user)[:50])
    for job in jobs:
        job.filter_words = describe(job.feed, job.query, job.user)
    return render(request, "messaging/exports.html", {"exports": jobs})


@login_required
def export_detail(request, pk: int):
    job = get_object_or_404(exports_visible_to(request.user), pk=pk)
    return render(
        request,
        "messaging/export_detail.html",
        {
            "job": job,
            "slug": SLUG_OF[job.feed],
            "running": job.state in (Export.State.QUEUED, Export.State.RUNNING),
            "filter_words": describe(job.feed, job.query, job.user),
        },
    )


@login_required
@require_POST
def export_retry(request, pk: int):
    """Try a failed export again (its worker died, or it failed): a POST, with CSRF."""
    job = get_object_or_404(exports_visible_to(request.user), pk=pk)
    if run_service(request, retry_export, export=job):
        return redirect("messaging:export_detail", pk=job.pk)
    return redirect("messaging:exports")


@login_required
def export_download(request, pk: int):
    job = get_object_or_404(exports_visible_to(request.user), pk=pk)
    path = exports.export_path(job)
    if path is None:
        raise Http404
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=path.name,  # noqa: SIM115
        content_type=content_type,
    )


@login_required
def sync_health(request):
    if not is_operator(request.user):
        raise PermissionDenied
    now = timezone.now()
    cursors = list(cursors_visible_to(request.user))
    for cursor in cursors:
        cursor.lag = sync.lag_seconds(cursor, now)
        cursor.stale = cursor.lag is None or cursor.lag > settings.SYNC_STALE_AFTER
    context = {"cursors": cursors, "guard": guard_report()}
    return render(request, "messaging/sync_health.html", context)


@login_required
@require_POST
def auth_retry(request):
    """Operators: probe now the credentials the auth guard holds back for one account."""
    username = request.POST.get("username", "")
    try:
        done = auth_retry_now(actor=request.user, username=username)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{username}: {done}")
    return redirect(reverse("messaging:sync_health"))


@login_required
@require_POST
def sync_now(request, pk: int):
    """Operators: make a cursor due at once (the next beat tick pulls it)."""
    cursor = get_object_or_404(cursors_visible_to(request.user), pk=pk)
    request_pull_now(actor=request.user, cursor=cursor)
    who = cursor.account.username if cursor.account else "the administrator"
    messages.success(
        request,
        f"{cursor.get_feed_display()} of {who} will be pulled within a few seconds.",
    )
    return redirect(reverse("messaging:sync_health"))


@login_required
def dashboard(request):
    return render(request, "messaging/dashboard.html", dashboard_for(request.user))
