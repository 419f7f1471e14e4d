from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    default = True
    name = "staff"
    verbose_name = "Staff log-in"


class StaffAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with the site that asks for a second factor."""

    # Listed in INSTALLED_APPS by its full path; "staff" alone is StaffConfig.
    default = False
    default_site = "staff.admin_site.StaffAdminSite"
