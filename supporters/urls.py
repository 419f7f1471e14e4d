from django.urls import path

from . import views

app_name = "supporters"

urlpatterns = [
    path("", views.link_request, name="request"),
    path("sent/", views.link_sent, name="sent"),
    path("page/", views.supporter_page, name="page"),
    path("page/name/", views.name_correct, name="name"),
    path("page/delete/", views.delete, name="delete"),
    path("page/stop-email/", views.objection, name="object"),
]
