from django.urls import path

from records import views, views_closure, views_confidential, views_export, views_versions

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
    path("export/", views_export.export, name="export"),
    path("<uuid:uid>/replace/", views_versions.replace, name="replace"),
    path("<uuid:uid>/hold/", views_versions.hold, name="hold"),
    path("<uuid:uid>/reveal/", views_versions.reveal, name="reveal"),
    path("<uuid:uid>/withdraw/", views_versions.withdraw, name="withdraw"),
    path("close/", views_closure.close_record, name="close"),
    path("reopen/", views_closure.reopen_record, name="reopen"),
    # Issue 17, item 4: its author keeps a minor's document from the legal representatives.
    path(
        "<uuid:uid>/confidential/",
        views_confidential.set_confidential,
        {"confidential": True},
        name="confidential",
    ),
    path(
        "<uuid:uid>/not-confidential/",
        views_confidential.set_confidential,
        {"confidential": False},
        name="not-confidential",
    ),
]
