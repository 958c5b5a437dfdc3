"""The FHIR R4 API under /fhir/ (issue 19; README, « FHIR API »).

The read routes come first; the write routes (``views_write``) are appended after them."""

from django.urls import URLPattern, path

from fhir_api import views, views_write

app_name = "fhir"

urlpatterns: list[URLPattern] = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient", views.patient_type, name="patient-type"),
    path("Patient/_search", views.patient_search, name="patient-search"),
    # GET searches (views.document_search), POST creates (views_write): one address, two verbs.
    path("DocumentReference", views_write.document_type, name="document-search"),
    path("DocumentReference/<str:document_id>", views.document_read, name="document-read"),
    path("Binary/<str:document_id>", views.binary_read, name="binary-read"),
    # Item 2's writes (fhir_api/views_write.py): a transaction Bundle is posted to the base.
    path("", views_write.transaction, name="transaction"),
    # Last: any other address under /fhir/ answers an OperationOutcome (401 without a valid
    # token, else 404 not-supported), never the portal's HTML 404 page.
    path("<path:rest>", views.unknown, name="unknown"),
]
