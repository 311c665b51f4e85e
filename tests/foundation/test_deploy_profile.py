"""The production profile (DEBUG=0): `check --deploy` passes with no warnings, and after the
release step (`collectstatic`) every page renders for each role, with the Content-Security-Policy
and `Cache-Control: no-store` headers (issue 14, acceptance 5)."""

import json
import os
import re
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse

from tests.accounts.conftest import world  # noqa: F401 (a fixture)
from tests.accounts.test_scope import reseller_a_things  # noqa: F401 (a fixture)
from tests.conftest import REPO_ROOT


def _manage(*args, **env_overrides):
    dropped = {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "SANDBOX_ENABLED"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["DJANGO_SETTINGS_MODULE"] = "bearsms_portal.settings"  # production: not the test's
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 10 + "Zq8#vL2@pN5!xR7$wT4%yU6^mB3&cD9*eF1(gH0)jK-=+_sA" + "x" * 10,
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "portal.example.com",
    "BEARSMS_URL": "https://app.bearsms.com",
    "BEARSMS_ADMIN_TOKEN": "not-a-real-token",
}


def test_check_deploy_has_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_requires_explicit_secrets():
    env = dict(PRODUCTION)
    env.pop("SECRET_KEY")
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


# --- every page with the production settings, after the release step ---------------------------

SETTINGS_SHOWN = (
    "DEBUG",
    "STORAGES",
    "WHITENOISE_USE_FINDERS",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
)
#: production with the embedded sandbox (no BEARSMS_URL)
EMBEDDED_PRODUCTION = {
    **{k: v for k, v in PRODUCTION.items() if k != "BEARSMS_URL"},
    "SANDBOX_ENABLED": "1",
    "ALLOWED_HOSTS": "testserver",
}
HTTPS = {"x-forwarded-proto": "https"}  # as the TLS-terminating proxy says
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STATIC = re.compile(r'(?:src|href)="(/static/[^"]+)"')


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """The release step (`collectstatic` with DEBUG=0) and the settings the production
    profile computes, both from the real settings module in a process of its own."""
    var = tmp_path_factory.mktemp("var")
    result = _manage(
        "collectstatic", "--no-input", "-v", "0", VAR_DIR=str(var), **EMBEDDED_PRODUCTION
    )
    assert result.returncode == 0, result.stderr
    script = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {SETTINGS_SHOWN!r}}}, default=str))"
    )
    shown = _manage("shell", "-c", script, VAR_DIR=str(var), **EMBEDDED_PRODUCTION)
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    values["STATIC_ROOT"] = str(var / "static")
    assert (var / "static" / "staticfiles.json").exists()
    return values


def test_production_settings_exempt_the_embedded_sandbox_from_the_ssl_redirect(released):
    assert released["DEBUG"] is False and released["SECURE_SSL_REDIRECT"] is True
    assert "whitenoise" in released["STORAGES"]["staticfiles"]["BACKEND"]
    assert r"^sandbox/" in released["SECURE_REDIRECT_EXEMPT"]
    shown = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_REDIRECT_EXEMPT)",
        **PRODUCTION,
    )
    assert "sandbox" not in shown.stdout  # a real BEARSMS_URL: no sandbox, nothing exempt


@pytest.fixture
def sandbox(sandbox_documented):
    return sandbox_documented


def _walk(client, world, extras, transfer, **headers):  # noqa: F811
    """Status (and response) of every page for each role, as the page-format walk does."""
    from tests.accounts.test_page_format import _pages

    roles = [
        (world.operator, [world.reseller_a, world.sub_a]),
        (world.user_a, [world.reseller_a, world.sub_a]),
        (world.user_sub_a, [world.sub_a]),
    ]
    seen = {}
    for user, accounts in roles:
        client.force_login(user)
        for url in [*_pages(world, accounts, extras, transfer), reverse("accounts:list_export")]:
            seen[(user.username, url)] = client.get(url, headers=headers)
    return seen


@pytest.mark.slow
@pytest.mark.django_db
def test_every_page_renders_in_production_after_the_release_step(
    released,
    world,  # noqa: F811
    reseller_a_things,  # noqa: F811
    settings,
):
    from accounts import services

    extras, transfer = reseller_a_things
    development = {
        key: r.status_code for key, r in _walk(Client(), world, extras, transfer).items()
    }
    for name, value in released.items():
        setattr(settings, name, value)
    settings.ALLOWED_HOSTS = ["testserver"]
    # the portal's own calls to the embedded sandbox (plain http) pass the SSL redirect
    services.credit_refresh(actor=world.operator, account=world.reseller_a)
    client = Client()
    assert client.get(reverse("login")).status_code == 301  # http: redirected to https
    production = _walk(client, world, extras, transfer, **HTTPS)
    assert {key: r.status_code for key, r in production.items()} == development
    assert sum(r.status_code == 200 for r in production.values()) > 60
    statics = set()
    for (who, url), response in production.items():
        assert response.status_code in (200, 302, 403, 404), (who, url)
        if response.status_code != 200:
            continue
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy, url
        assert "no-store" in response["Cache-Control"], url
        if response.get("Content-Type", "").startswith("text/html"):
            html = response.content.decode()
            assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group())
            assert not INLINE_HANDLER.search(html), (url, INLINE_HANDLER.search(html).group())
            statics |= set(STATIC.findall(html))
    assert any(re.search(r"\.[0-9a-f]{12}\.(css|js)$", path) for path in statics)  # hashed
    for path in statics:  # every static file a page links is served (WhiteNoise, no finders)
        assert client.get(path, headers=HTTPS).status_code == 200, path
    anonymous = Client()
    login = anonymous.get(reverse("login"), headers=HTTPS)
    assert login.status_code == 200 and "Content-Security-Policy" in login
    health = anonymous.get(reverse("healthz"), headers=HTTPS)
    assert all(set(check) == {"ok"} for check in health.json()["checks"].values())


@pytest.mark.django_db
def test_the_sandbox_is_unreachable_when_not_exempt(released, world, settings):  # noqa: F811
    """The check above can fail: without the exemption the portal's sandbox calls are
    redirected and fail."""
    from accounts import services
    from accounts.errors import ServiceError

    for name, value in released.items():
        setattr(settings, name, value)
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    with pytest.raises(ServiceError):
        services.credit_refresh(actor=world.operator, account=world.reseller_a)
