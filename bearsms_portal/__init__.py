"""BearSMS Portal: a Django front end for the BearSMS (playSMS) webservices API.

Nothing is imported here, so the Django-free client (:mod:`bearsms_portal.bearsms`) imports
bare. The Celery app is :mod:`bearsms_portal.celery` (``celery -A bearsms_portal.celery``);
Django loads it in :class:`bearsms_portal.apps.PortalConfig`.
"""
