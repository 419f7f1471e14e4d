from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = "Petitions and signatures"
