"""What happens to signatures, for the apps that keep something of their own
about signers (the newsletter's list).

Petitions' services send these from inside their transaction, with send()
(not send_robust()): a receiver runs in the same transaction, and if it
fails, the whole change is rolled back, so a signature and what other apps
keep about its signer never disagree. Receivers are adapters that call their
own app's services; the rules stay there.
"""

from django.dispatch import Signal

# A signature was confirmed. Arguments: signature, now.
signature_confirmed = Signal()

# A signature was withdrawn and its personal data deleted. Arguments:
# email_normalised (the address it had, or None).
signature_withdrawn = Signal()

# A signer used their e-mail's link to stop campaign updates. Arguments:
# email_normalised, now. A receiver returns whether it stopped anything.
signature_unsubscribed = Signal()

# Signatures of closed petitions were anonymised. No arguments.
signatures_anonymised = Signal()
