from django.apps import AppConfig


class AuditConfig(AppConfig):
    # No verbose_name: Django's default, "Audit", is the same word in French, and the admin's
    # index shows it as it is (a translated name would be a new catalog entry for one word).
    name = "audit"
    label = "audit"
