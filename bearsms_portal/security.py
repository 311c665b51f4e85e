"""Response headers that keep a signed-in person's pages to that person.

Every response to a signed-in user — pages, JSON, CSV and XLSX exports — is
``Cache-Control: no-store, private``: a shared proxy or the browser's back button must not
hand an account list, a balance or a message export to the next person at that computer.
(The Content-Security-Policy header comes from django-csp; its policy is in the settings.)
"""

from __future__ import annotations

from django.utils.cache import patch_cache_control


class NoStoreWhenSignedInMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
