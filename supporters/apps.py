from django.apps import AppConfig


class SupportersConfig(AppConfig):
    name = "supporters"
    verbose_name = "Supporters' own rights"
