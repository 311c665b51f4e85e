"""The webservices op names and their classes, in one place.

Every other part of the portal (audit labels, permissions, views) takes op names from here.
"""

from __future__ import annotations

__all__ = ["READ_OPS", "ADMIN_OPS", "FATAL_MEANS_UNKNOWN_USER"]

#: ops that change nothing on the server: safe to retry.
READ_OPS = frozenset(
    {
        "ds",
        "in",
        "ix",
        "sx",
        "cr",
        "get_token",
        "get_contact",
        "get_contact_group",
        "query",
        "parentget",
        "creditview",
    }
)
#: ops authenticated as administrator (ERR 600 on any auth failure).
ADMIN_OPS = frozenset(
    {
        "inject",
        "accountadd",
        "accountremove",
        "parentset",
        "parentget",
        "accountban",
        "accountunban",
        "accountpref",
        "accountconf",
        "creditview",
        "creditadd",
        "creditdeduct",
        "loginkeyset",
    }
)
#: admin ops whose database failure (HTTP 200, PHP fatal) means an unknown ``data_username``.
FATAL_MEANS_UNKNOWN_USER = frozenset({"creditadd", "creditdeduct", "loginkeyset"})
