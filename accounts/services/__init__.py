"""Writes of the accounts app. Views, forms and commands call these, nothing else."""

from accounts.services.authentication import (
    LoginRefused,
    check_password_step,
    is_known_browser,
    record_login,
    record_logout,
    remember_language,
    verify_login_code,
    verify_second_factor,
)
from accounts.services.practitioners import (
    ActivationRefused,
    activate_practitioner,
    import_practitioners,
    issue_activation_link,
    send_invitation,
)
from accounts.services.second_factor import (
    confirm_totp_device,
    pending_totp_device,
    start_totp_setup,
)

__all__ = [
    "ActivationRefused",
    "LoginRefused",
    "activate_practitioner",
    "check_password_step",
    "confirm_totp_device",
    "import_practitioners",
    "is_known_browser",
    "record_login",
    "record_logout",
    "issue_activation_link",
    "pending_totp_device",
    "remember_language",
    "send_invitation",
    "start_totp_setup",
    "verify_login_code",
    "verify_second_factor",
]
