from django.apps import AppConfig


class PeruCampaignConfig(AppConfig):
    name = "peru_campaign"
    verbose_name = "Campaign site"
