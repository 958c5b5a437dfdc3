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

from django.contrib import admin
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


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
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
        obj.authorization_grant_type = AbstractApplication.GRANT_AUTHORIZATION_CODE
        obj.skip_authorization = False
        obj.algorithm = AbstractApplication.NO_ALGORITHM
        obj.hash_client_secret = True
        obj.user = None
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
