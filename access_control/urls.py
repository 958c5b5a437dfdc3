from django.urls import path

from access_control import views, views_acting, views_caregivers, views_history, views_landing
from records import views as record_views

app_name = "access"

urlpatterns = [
    path("summary/", views_landing.patient_home, name="patient-home"),
    path("pro/workspace/", views_landing.pro_workspace, name="pro-workspace"),
    path("staff/", views_landing.staff_home, name="staff-home"),
    path("access/", views.overview, name="overview"),
    path("access/history/", views_history.access_history, name="history"),
    path("access/settings/", views.record_settings, name="settings"),
    path("access/consents/<int:consent_id>/revoke/", views.revoke, name="revoke"),
    path("access/blocks/", views.block, name="block"),
    path("access/blocks/<int:block_id>/lift/", views.lift_block, name="lift-block"),
    path("access/treating-physician/", views.treating_physician, name="treating-physician"),
    path(
        "access/treating-physician/remove/",
        views.remove_treating_physician,
        name="remove-treating-physician",
    ),
    path(
        "access/requests/<int:request_id>/accept/",
        views.answer_request,
        {"accept": True},
        name="accept-request",
    ),
    path(
        "access/requests/<int:request_id>/decline/",
        views.answer_request,
        {"accept": False},
        name="decline-request",
    ),
    path("pro/", views.pro_search, name="pro-search"),
    path("pro/patients/<uuid:patient_id>/", views.pro_record, name="pro-record"),
    path("pro/patients/<uuid:patient_id>/request/", views.pro_request, name="pro-request"),
    path("pro/patients/<uuid:patient_id>/emergency/", views.pro_emergency, name="pro-emergency"),
    path("pro/patients/<uuid:patient_id>/upload/", record_views.pro_upload, name="pro-upload"),
    # Issue 17: caregivers.
    path("access/caregivers/", views_caregivers.caregivers_page, name="caregivers"),
    path(
        "access/caregivers/<int:grant_id>/end/",
        views_caregivers.end_caregiver,
        name="end-caregiver",
    ),
    path(
        "access/caregivers/<int:grant_id>/accept/",
        views_caregivers.answer_invitation,
        {"accept": True},
        name="accept-caregiver",
    ),
    path(
        "access/caregivers/<int:grant_id>/decline/",
        views_caregivers.answer_invitation,
        {"accept": False},
        name="decline-caregiver",
    ),
    # Issue 17, item 3: the switch between one's own record and those one may act on.
    path("access/acting/", views_acting.switch, name="acting"),
]
