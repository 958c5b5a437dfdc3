from accounts.models import User


def ensure_data_key(user: User) -> None:
    """Give the user a data key if they have none yet (patients get theirs at enrolment).

    The rule lives on the row (``User.ensure_data_key``), where a second factor's sealed secret
    needs it too; other apps ask for it here, at the floor of services.
    """
    user.ensure_data_key()
