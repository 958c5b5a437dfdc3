from django.db import transaction

from accounts.models import User
from dmp_portal.crypto.datakeys import create_data_key


@transaction.atomic
def ensure_data_key(user: User) -> None:
    """Give the user a data key if they have none yet (patients get theirs at enrolment)."""
    if user.data_key_id is not None:
        return
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.data_key_id is None:
        locked.data_key = create_data_key("account")
        locked.save(update_fields=["data_key"])
    user.data_key = locked.data_key
