from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Helpers shared by every app: Markdown, content loading, client IPs,
    admin mixins, the site context, template tags and site-wide commands."""

    name = "core"
    verbose_name = "Campaign site"
