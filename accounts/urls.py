from django.urls import path

from accounts import views, views_sessions

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("session/extend/", views.extend_session, name="extend-session"),
    path("2fa/setup/", views.SecondFactorSetupView.as_view(), name="2fa-setup"),
    path("activate/<str:token>/", views.ActivateView.as_view(), name="activate"),
    path("sessions/", views_sessions.session_list, name="sessions"),
    path("sessions/end/", views_sessions.end_one, name="end-session"),
    path("sessions/end-others/", views_sessions.end_others, name="end-other-sessions"),
]
