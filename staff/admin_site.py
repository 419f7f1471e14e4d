"""The admin site, closed to a session that still owes its second factor.

SecondFactorMiddleware sends such a session to the verify or enrol page
before any admin page; this is the same rule again at the admin's own door,
so a view added under `admin_view` anywhere (the organisers' dashboard, say)
is closed too even if a path were ever left out of the middleware.
"""

from django.contrib.admin import AdminSite

from .selectors import second_factor_missing


class StaffAdminSite(AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and not second_factor_missing(
            user=request.user
        )
