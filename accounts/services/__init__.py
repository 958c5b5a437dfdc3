"""Writes of the accounts app. Views, forms and commands call these, nothing else."""

from accounts.services.authentication import (
    LoginRefused,
    check_password_step,
    check_second_factor,
    complete_second_factor,
    is_known_browser,
    remember_browser,
)
from accounts.services.practitioners import (
    ActivationRefused,
    ImportReport,
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
    "ImportReport",
    "LoginRefused",
    "activate_practitioner",
    "check_password_step",
    "check_second_factor",
    "complete_second_factor",
    "confirm_totp_device",
    "import_practitioners",
    "is_known_browser",
    "issue_activation_link",
    "pending_totp_device",
    "remember_browser",
    "send_invitation",
    "start_totp_setup",
]
