from django.conf import settings


def site(request):
    return {
        "SITE_URL": settings.SITE_URL,
        "CONTACT_EMAIL": settings.CONTACT_EMAIL,
        "CAMPAIGN_ORGANISATION": settings.CAMPAIGN_ORGANISATION,
        "CAMPAIGN_POSTAL_ADDRESS": settings.CAMPAIGN_POSTAL_ADDRESS,
        "DATA_CONTROLLER": settings.DATA_CONTROLLER,
    }
