"""The newsletter's list follows its signers (petitions.signals): one-line
adapters onto newsletters.services, where the rules are."""

from . import services


def on_signature_confirmed(sender, *, signature, now, **kwargs):
    # A signer who asked for updates joins the list.
    return services.subscriber_from_signature(signature=signature, now=now)


def on_signature_withdrawn(sender, *, email_normalised, **kwargs):
    return services.subscriber_forget_signer(email_normalised=email_normalised)


def on_signature_unsubscribed(sender, *, email_normalised, now, **kwargs):
    return services.subscriber_unsubscribe_address(
        email_normalised=email_normalised, now=now
    )


def on_signatures_anonymised(sender, **kwargs):
    return services.subscribers_forget_lapsed_signers()
