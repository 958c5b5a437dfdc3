"""The FHIR R4 API under /fhir/ (issue 19; README, « FHIR API »)."""

from django.urls import URLPattern, path

from fhir_api import views_write

app_name = "fhir"

urlpatterns: list[URLPattern] = [
    # Item 2's writes (fhir_api/views_write.py): a transaction Bundle is posted to the base.
    path("", views_write.transaction, name="transaction"),
    path("DocumentReference", views_write.create_document_reference, name="document-create"),
]
