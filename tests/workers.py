"""A real Celery worker for the tests that need one (not eager mode)."""

import sys


def worker_command(queue: str) -> list[str]:
    """A solo worker on ``queue`` only, loading the app as the Procfile does."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bearsms_portal.celery",
        "worker",
        "--pool",
        "solo",
        "--queues",
        queue,
        "--loglevel",
        "WARNING",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"{queue}@%h",
    ]
