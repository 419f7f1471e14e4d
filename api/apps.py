from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Partners: the OSDI petitions API, its tokens and audit trail, and the
    embeddable sign widget."""

    name = "api"
    verbose_name = "Partners (API and widget)"
