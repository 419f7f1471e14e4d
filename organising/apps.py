from django.apps import AppConfig


class OrganisingConfig(AppConfig):
    name = "organising"
    verbose_name = "Organising"
