from django.urls import path

from . import widget

app_name = "widget"

urlpatterns = [
    path("petitions/<slug:slug>/", widget.widget, name="widget"),
    path("petitions/<slug:slug>/sign/", widget.widget_sign, name="sign"),
    path("petitions/<slug:slug>/sent/", widget.widget_sent, name="sent"),
]
