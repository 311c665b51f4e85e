"""Page sizes of every table: ``?per_page=`` is read here only, bounded to 1–200.

A page size from the query string is a request for work: unbounded, ``per_page=10**9`` reads a
whole table into one page, and a negative one made django-tables2's paginator fail (a 500).
Odd values (text, zero, negative, huge) fall back to the default or the nearest bound; an odd
``page`` shows the first or the last page (Django's ``Paginator.get_page``).
"""

from __future__ import annotations

from django_tables2 import RequestConfig

PER_PAGE = 50
PER_PAGE_MAX = 200


def per_page(request, default: int = PER_PAGE) -> int:
    """The page size asked for in ``?per_page=``, within 1…:data:`PER_PAGE_MAX`."""
    try:
        value = int(request.GET.get("per_page", default))
    except (TypeError, ValueError):
        return default
    return min(max(value, 1), PER_PAGE_MAX)


def configure_table(request, table, default: int = PER_PAGE):
    """A django-tables2 table sorted as asked (unknown sorts are ignored) and paged with a
    bounded size."""
    RequestConfig(request, paginate=False).configure(table)
    table.paginate(per_page=per_page(request, default))
    table.page = table.paginator.get_page(request.GET.get(table.prefixed_page_field))
    return table
