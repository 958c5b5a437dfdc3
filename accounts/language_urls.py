"""The language switch at /i18n/setlang/, where Django's own URLconf put it (the header's form
posts there by the name ``set_language``): the ground's URLconf includes this one by name, as it
may not import an app."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("setlang/", views.set_language, name="set_language"),
]
