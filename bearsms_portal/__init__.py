"""BearSMS Portal: a Django front end for the BearSMS (playSMS) webservices API."""

from .celery import app as celery_app

__all__ = ["celery_app"]
