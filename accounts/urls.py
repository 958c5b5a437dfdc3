from django.urls import path

from accounts import (
    views,
    views_applications,
    views_password,
    views_security,
    views_sessions,
)

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("session/extend/", views.extend_session, name="extend-session"),
    path("2fa/setup/", views.SecondFactorSetupView.as_view(), name="2fa-setup"),
    path("activate/<str:token>/", views.ActivateView.as_view(), name="activate"),
    path("security/", views_security.security, name="security"),
    path(
        "security/passkeys/options/",
        views_security.passkey_registration_options,
        name="passkey-registration-options",
    ),
    path("security/passkeys/add/", views_security.passkey_register, name="passkey-register"),
    path(
        "security/passkeys/<int:device_id>/remove/",
        views_security.passkey_remove,
        name="passkey-remove",
    ),
    path(
        "login/passkey/options/",
        views_security.passkey_login_options,
        name="passkey-login-options",
    ),
    path("login/passkey/", views_security.passkey_login, name="passkey-login"),
    path(
        "password/reset/",
        views_password.PasswordResetRequestView.as_view(),
        name="password-reset",
    ),
    path(
        "password/reset/<str:token>/",
        views_password.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password/change/",
        views_password.PasswordChangeView.as_view(),
        name="password-change",
    ),
    path(
        "email/confirm/<str:token>/",
        views_password.ContactEmailConfirmView.as_view(),
        name="email-confirm",
    ),
    path("email/resend/", views_password.resend_contact_confirmation, name="email-resend"),
    path("sessions/", views_sessions.session_list, name="sessions"),
    path("sessions/end/", views_sessions.end_one, name="end-session"),
    path("sessions/end-others/", views_sessions.end_others, name="end-other-sessions"),
    # Issue 19: the applications a practitioner let act in their name.
    path("applications/", views_applications.application_list, name="applications"),
    path(
        "applications/<int:application_id>/revoke/",
        views_applications.revoke,
        name="revoke-application",
    ),
]
