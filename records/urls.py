from django.urls import path

from records import views, views_closure

app_name = "records"

urlpatterns = [
    path("", views.record_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("<uuid:uid>/", views.document_page, name="document"),
    path("<uuid:uid>/content/", views.document_content, name="content"),
    path("<uuid:uid>/download/", views.document_download, name="download"),
    path("<uuid:uid>/hide/", views.set_visibility, {"hidden": True}, name="hide"),
    path("<uuid:uid>/show/", views.set_visibility, {"hidden": False}, name="show"),
    path("<uuid:uid>/delete/", views.delete_document, name="delete"),
    path("close/", views_closure.close_record, name="close"),
    path("reopen/", views_closure.reopen_record, name="reopen"),
]
