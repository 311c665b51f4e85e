"""One person's browser in a journey, with the checks every visited page must pass.

- no console error and no failed request (a response of 400 or more, or a request that never
  got an answer), except the statuses a step says it expects (``expect_status(404)``);
- every visible form field has a label (``<label for>``, a wrapping label, ``aria-label`` or
  ``aria-labelledby``);
- at 390 px wide the main content does not scroll sideways (tables may scroll inside their own
  ``.table-responsive`` box).

Every page that loads is checked when the journey next calls ``check()`` (``goto``, ``click``
and ``submit`` call it), and ``close()`` fails if a loaded page was never checked.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

WIDE = {"width": 1280, "height": 900}
NARROW = 390

UNLABELLED_FIELDS = """() => {
  const fields = document.querySelectorAll(
    'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]),'
    + ' select, textarea');
  const missing = [];
  for (const field of fields) {
    if (field.closest('[hidden]') || field.type === 'image') continue;
    const labelled = (field.id && document.querySelector(`label[for="${CSS.escape(field.id)}"]`))
      || field.closest('label') || field.getAttribute('aria-label')
      || field.getAttribute('aria-labelledby');
    if (!labelled) missing.push(field.name || field.id || field.outerHTML.slice(0, 80));
  }
  return missing;
}"""

SIDEWAYS_SCROLL = """() => {
  const root = document.scrollingElement || document.documentElement;
  const main = document.querySelector('main') || document.body;
  const fits = (el) => el.scrollWidth <= el.clientWidth + 1;
  if (fits(root) && fits(main)) return [];
  // Name the widest elements that stick out (outside a box that scrolls by itself).
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (p === document.body) return false;
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    const spills = getComputedStyle(el).overflowX === 'visible' && el.clientWidth > 0
      && el.scrollWidth > el.clientWidth + 1;  // text too wide
    if ((r.right > root.clientWidth + 1 || spills) && !scrolls(el)) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (el.className && typeof el.className === 'string'
           ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
      const text = spills ? ` "${el.textContent.trim().slice(0, 60)}"` : '';
      out.push(`${name} (${Math.round(Math.max(r.right, r.left + el.scrollWidth))}px)${text}`);
    }
  }
  return [`page ${root.scrollWidth}px wide`, ...out.slice(-6)];
}"""


class Journey:
    def __init__(self, browser: Browser | None, base: str, *, downloads: Path, context=None):
        self.base = base
        self.downloads = downloads
        self.owns_context = context is None
        self.context = context or browser.new_context(viewport=WIDE, accept_downloads=True)
        self.tabs: list[Journey] = []
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.expected_statuses: set[int] = set()
        self.loaded: list[str] = []
        self.checked: set[str] = set()
        self.page.on("console", self._on_console)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)
        self.page.on("load", lambda page: self.loaded.append(page.url))

    # --- what the browser reports ------------------------------------------------------------
    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if self.expected_statuses and re.search(
            r"status of ({})\b".format("|".join(map(str, self.expected_statuses))), text
        ):
            return
        self.problems.append(f"console error on {self.page.url}: {text}")

    def _on_request_failed(self, request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure and request.resource_type in {"document", "fetch", "xhr"}:
            return  # a navigation or poll cut short by the next navigation
        self.problems.append(f"request failed: {request.method} {request.url} ({failure})")

    def _on_response(self, response) -> None:
        if response.status >= 400 and response.status not in self.expected_statuses:
            self.problems.append(f"HTTP {response.status} for {response.url}")

    @contextmanager
    def expect_status(self, *statuses: int):
        self.expected_statuses = set(statuses)
        try:
            yield
        finally:
            self.expected_statuses = set()

    def _assert_no_problems(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "\n".join(problems)

    # --- the page checks -----------------------------------------------------------------------
    def check(self) -> None:
        """Check the page on screen: reported problems, labels, and 390 px."""
        page = self.page
        page.wait_for_load_state("load")
        self._assert_no_problems()
        url = page.url
        self.checked.add(url)  # checked, whatever the outcome
        missing = page.evaluate(UNLABELLED_FIELDS)
        assert not missing, f"form fields without a label on {url}: {missing}"
        page.set_viewport_size({"width": NARROW, "height": WIDE["height"]})
        try:
            over = page.evaluate(SIDEWAYS_SCROLL)
        finally:
            page.set_viewport_size(WIDE)
        assert not over, f"{url} scrolls sideways at {NARROW}px: {over}"

    def tab(self) -> Journey:
        """Another tab of the same person (same cookies), with its own page checks."""
        other = Journey(None, self.base, downloads=self.downloads, context=self.context)
        self.tabs.append(other)
        return other

    def close(self) -> None:
        try:
            for tab in self.tabs:
                tab.close()
            self._assert_no_problems()
            unchecked = [url for url in self.loaded if url not in self.checked]
            assert not unchecked, f"pages loaded but never checked: {unchecked}"
        finally:
            if self.owns_context:
                self.context.close()

    # --- steps ---------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"

    def goto(self, path: str, *, status: int = 200):
        if status != 200:
            with self.expect_status(status):
                response = self.page.goto(self.url(path))
                assert response is not None and response.status == status, (
                    f"{path}: {response.status if response else None}, expected {status}"
                )
                self.check()
            return response
        response = self.page.goto(self.url(path))
        assert response is not None and response.status == 200, (
            f"{path}: HTTP {response.status if response else None}"
        )
        self.check()
        return response

    def submit(self, button, *, url=None) -> None:
        """Click a button (a locator or a role name) that loads a new page, and check it."""
        locator = button
        if isinstance(button, str):
            locator = self.page.get_by_role("button", name=button, exact=True)
        with self.page.expect_navigation(url=url or re.compile(".*")):
            locator.click()
        self.check()

    def follow(self, link, *, url=None) -> None:
        locator = self.page.get_by_role("link", name=link) if isinstance(link, str) else link
        with self.page.expect_navigation(url=url or re.compile(".*")):
            locator.click()
        self.check()

    def log_in(self, username: str, password: str) -> None:
        self.goto("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.submit(self.page.locator("form button[type=submit]"), url=f"{self.base}/")
        expect(self.page.locator(".navbar-text")).to_have_text(username)

    def log_out(self) -> None:
        self.context.clear_cookies()
