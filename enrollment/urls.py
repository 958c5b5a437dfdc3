from django.urls import path

from enrollment import views

app_name = "enrollment"

urlpatterns = [
    path("", views.EnrollmentView.as_view(), name="request"),
    path("eligibility/", views.eligibility, name="eligibility"),
    path("activate/", views.ActivationView.as_view(), name="activate"),
]
