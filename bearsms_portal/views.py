"""Portal-wide views: the landing page and /healthz."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from . import health


@login_required
def home(request):
    from accounts.selectors import reseller_home
    from messaging.dashboard import dashboard_for  # the dashboard belongs to messaging

    context = dashboard_for(request.user)
    context["reseller"] = reseller_home(request.user)
    return render(request, "home.html", context)


@never_cache
def healthz(request):
    checks = health.run_checks()
    ok = all(check.get("ok") for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "down", "checks": checks}, status=200 if ok else 503
    )
