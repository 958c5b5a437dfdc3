"""Applications of practitioners' software in the admin (issue 19; README, « FHIR API »).

Staff register an application: its name, client type and return addresses. The rest is fixed
here, whatever a form posts: the authorization code flow only, the consent page always shown,
no OpenID Connect signing, the client secret hashed. A confidential application's secret is
shown once, on the page that answers its creation, and never again (only its hash is kept).

Tokens, codes and ID tokens are not the admin's business: django-oauth-toolkit's pages for them
are taken out. A practitioner revokes an application's access on their connected applications
page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

# Imported for its side effect first: the toolkit registers its own pages when its admin
# module is imported, which autodiscovery would do after this app's (INSTALLED_APPS order).
from oauth2_provider import admin as toolkit_admin
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.settings import oauth2_settings

from dmp_portal.admin_lists import NoFacetCounts
from dmp_portal.admin_lookups import OfferedLookupsOnly

Application = get_application_model()

for _model in (
    Application,
    get_access_token_model(),
    get_refresh_token_model(),
    get_grant_model(),
    get_id_token_model(),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

__all__ = ["ApplicationAdmin", "toolkit_admin"]


def _fixed_fields(application: AbstractApplication) -> None:
    """What no form chooses: the authorization code flow, the consent page always shown, no
    OpenID Connect signing, the secret hashed, no owner account."""
    application.authorization_grant_type = AbstractApplication.GRANT_AUTHORIZATION_CODE
    application.skip_authorization = False
    application.algorithm = AbstractApplication.NO_ALGORITHM
    application.hash_client_secret = True
    application.user = None


class ApplicationForm(forms.ModelForm):
    """The name (shown to practitioners and patients) and at least one return address are
    required; an address is checked here, with a French message, before the toolkit's own
    check (whose messages are in English only)."""

    class Meta:
        model = Application
        fields = ("name", "client_type", "redirect_uris")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "redirect_uris"):
            if name in self.fields:
                self.fields[name].required = True

    def clean_redirect_uris(self) -> str:
        uris = self.cleaned_data["redirect_uris"].split()
        schemes = oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES
        for uri in uris:
            parts = urlsplit(uri)
            if parts.scheme not in schemes or not parts.hostname or parts.fragment:
                raise ValidationError(
                    _(
                        "« %(uri)s » is not a return address the portal accepts: expected a "
                        "full address such as https://logiciel.example/retour (%(schemes)s, "
                        "without #), several separated by spaces."
                    ),
                    params={"uri": uri, "schemes": ", ".join(schemes)},
                )
        return " ".join(uris)

    def clean(self):
        # Before the model's own validation (which reads the grant type).
        _fixed_fields(self.instance)
        return super().clean()


@admin.register(Application)
class ApplicationAdmin(NoFacetCounts, OfferedLookupsOnly, admin.ModelAdmin):
    form = ApplicationForm
    # The one filter's lookup (the portal's admin accepts no other: dmp_portal/admin_lookups.py).
    offered_lookups = frozenset({"client_type__exact"})
    list_display = ("name", "client_id", "client_type", "created")
    list_filter = ("client_type",)
    search_fields = ("name", "client_id")
    ordering = ("name", "pk")
    fields = ("name", "client_type", "redirect_uris")
    readonly_fields = ("client_id", "authorization_grant_type", "created", "updated")

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return ("name", "client_id", "client_type", "redirect_uris") + self.readonly_fields[1:]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting an application would delete its tokens without a trace in the audit trail;
        # a practitioner revokes its access on their connected applications page.
        return False

    def save_model(self, request, obj, form, change):
        _fixed_fields(obj)
        if not change and obj.client_type == Application.CLIENT_CONFIDENTIAL:
            # The secret generated for this new row, kept on the instance (never on the
            # admin, shared by every request) before the field hashes it on save. A public
            # client's is never shown: it authenticates with PKCE alone.
            obj.new_client_secret = obj.client_secret
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        """The one page that shows the client secret, right after creation (not a redirect:
        the secret never passes through the session, a message or an address)."""
        return TemplateResponse(
            request,
            "oauth2_provider/admin_created.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Application registered"),
                "application": obj,
                "client_secret": getattr(obj, "new_client_secret", ""),
                "opts": self.opts,
            },
        )
