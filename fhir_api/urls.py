"""The FHIR R4 API under /fhir/ (issue 19; README, « FHIR API »)."""

from django.urls import URLPattern

app_name = "fhir"

urlpatterns: list[URLPattern] = []
