"""The patient's notification address moves to accounts' contact address, unconfirmed.

Addresses typed on the settings page were never proved to reach their owner: a typo sends
notifications, and now password reset links, to a stranger. So each one becomes a contact
address *waiting for its confirmation* (nothing is sent to it until it is confirmed), and
``manage.py send_email_confirmations``, run once after this migration, sends each its link.
Practitioners' directory addresses are confirmed already: an active practitioner set their
first password through the invitation link e-mailed to that address.
"""

from django.db import migrations
from django.utils import timezone

from accounts.contact import email_lookup
from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.models import DataKey


def _bind(instance, data_key_id):
    # Historical models lack EncryptedModel.get_data_key (a method of an abstract base, which
    # migrations do not keep): the encrypted fields ask the instance for the key its values
    # are sealed under, so hand it the owner's key, as the crypto module's model (the fields
    # read its ``is_destroyed``, which a historical model has not either).
    data_key = DataKey.objects.get(pk=data_key_id)
    instance.get_data_key = lambda: data_key
    return data_key


def forwards(apps, schema_editor):
    RecordSettings = apps.get_model("access_control", "RecordSettings")
    User = apps.get_model("accounts", "User")
    ContactEmail = apps.get_model("accounts", "ContactEmail")
    ContactEmailChange = apps.get_model("accounts", "ContactEmailChange")
    now = timezone.now()
    settings_rows = RecordSettings.objects.filter(contact_email__isnull=False).select_related(
        "patient"
    )
    for row in settings_rows.iterator():
        data_key_id = row.patient.data_key_id
        if data_key_id is None or _bind(row, data_key_id).is_destroyed:
            continue  # unreadable: nothing to carry over
        address = str(row.contact_email or "").strip()
        if not address:
            continue
        change = ContactEmailChange(user_id=row.patient_id, address=address, created_at=now)
        _bind(change, data_key_id)
        change.save()
    practitioners = User.objects.filter(kind="practitioner", is_active=True).exclude(email="")
    for user in practitioners.iterator():
        if user.data_key_id is None:
            user.data_key_id = create_data_key("account").pk
            user.save(update_fields=["data_key"])
        contact = ContactEmail(
            user_id=user.pk, address=user.email, lookup=email_lookup(user.email), verified_at=now
        )
        if _bind(contact, user.data_key_id).is_destroyed:
            continue
        contact.save()


class Migration(migrations.Migration):
    dependencies = [
        ("access_control", "0013_consent_revoked_reason"),
        ("accounts", "0008_contact_email_and_reset_links"),
        ("crypto", "0001_initial"),
    ]

    operations = [
        # Backwards: the addresses stay in accounts; the column comes back empty.
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="recordsettings", name="contact_email"),
    ]
