"""Sandbox tests use the shared fixtures of tests/conftest.py: ``sandbox`` / ``sandbox_playsms`` /
``sandbox_documented`` run in-process (Django's test client, inside the test's transaction),
which keeps ~300 tests fast on PostgreSQL; tests about the wire itself (transport, cookies,
faults, timeouts) use ``live_sandbox*``. The harness behind them is ``harness.py``.
"""
