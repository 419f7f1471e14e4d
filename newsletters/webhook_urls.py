"""The provider's tracking webhooks (django-anymail), and no others: the site
receives no inbound e-mail. Mounted at /anymail/ when ANYMAIL_WEBHOOK_SECRET
is set; each provider is given https://<secret>@<site>/anymail/<esp>/tracking/."""

from anymail import urls as anymail_urls

app_name = "anymail"

urlpatterns = [
    pattern
    for pattern in anymail_urls.urlpatterns
    if pattern.name
    and (
        pattern.name.endswith("_tracking_webhook") or pattern.name == "mandrill_webhook"
    )
]
