from django.urls import path

from . import views

app_name = "petitions"

urlpatterns = [
    # First: a surge of signatures is the busiest path, and no other
    # pattern here matches an address ending in /sign/.
    path("<slug:slug>/sign/", views.petition_sign, name="sign"),
    path("", views.petition_list, name="list"),
    path("confirm/", views.confirm, name="confirm"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("unsubscribe/", views.unsubscribe, name="unsubscribe"),
    path("<slug:slug>.json", views.petition_json, name="json"),
    path("<slug:slug>/", views.petition_detail, name="detail"),
    path("<slug:slug>/countries/", views.petition_countries, name="countries"),
    path("<slug:slug>/check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("<slug:slug>/thanks/", views.thanks, name="thanks"),
]
