from django.apps import AppConfig


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = "Newsletters"

    def ready(self):
        # Imported here, as Django asks: these modules need the app registry.
        from anymail.signals import tracking

        from petitions import signals as petition_signals

        from . import receivers
        from .webhooks import handle_tracking_event

        tracking.connect(handle_tracking_event, dispatch_uid="newsletters.tracking")
        for signal, receiver in [
            (petition_signals.signature_confirmed, receivers.on_signature_confirmed),
            (petition_signals.signature_withdrawn, receivers.on_signature_withdrawn),
            (
                petition_signals.signature_unsubscribed,
                receivers.on_signature_unsubscribed,
            ),
            (
                petition_signals.signatures_anonymised,
                receivers.on_signatures_anonymised,
            ),
        ]:
            signal.connect(receiver, dispatch_uid=f"newsletters.{receiver.__name__}")
