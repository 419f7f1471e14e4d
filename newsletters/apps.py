from django.apps import AppConfig


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = "Newsletters"

    def ready(self):
        from anymail.signals import tracking

        from .webhooks import handle_tracking_event

        tracking.connect(handle_tracking_event, dispatch_uid="newsletters.tracking")
