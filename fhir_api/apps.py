from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FhirApiConfig(AppConfig):
    """The FHIR R4 API for practitioners' software (issue 19): an interface over the same
    door and selectors as the web pages, reached with an OAuth2 access token."""

    name = "fhir_api"
    verbose_name = _("FHIR API")
