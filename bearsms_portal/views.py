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
    """Up or down per component for anyone (a load balancer, a monitor); latencies, vendors
    and error classes only for operators."""
    from accounts.roles import is_operator

    checks = health.run_checks()
    ok = all(check.get("ok") for check in checks.values())
    if not (request.user.is_authenticated and is_operator(request.user)):
        checks = {name: {"ok": bool(check.get("ok"))} for name, check in checks.items()}
    return JsonResponse(
        {"status": "ok" if ok else "down", "checks": checks}, status=200 if ok else 503
    )
