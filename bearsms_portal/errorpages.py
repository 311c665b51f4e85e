"""The portal's own error pages in every mode.

With ``DEBUG=1`` (``make run``) Django answers a missing page with its technical 404 page;
:class:`PortalErrorPagesMiddleware` puts the portal's styled ``404.html`` in its place, so a
developer sees what a user sees (the reason still goes to the log at DEBUG). 403 is already
the portal's page in both modes (``handler403``); ``bearsms_portal.logging.QuietForbidden``
keeps its traceback out of the console (a refused action is audited, not a portal error).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.template.response import TemplateResponse

log = logging.getLogger("bearsms_portal.errorpages")


class PortalErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and not getattr(response, "portal_page", False)
        ):
            log.debug("404 for %s (Django's technical page replaced)", request.path)
            page = TemplateResponse(request, "404.html", status=404)
            page.portal_page = True
            return page.render()
        return response
