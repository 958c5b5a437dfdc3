"""django-oauth-toolkit's application, named in the portal's language (issue 19).

The toolkit names its app "Django OAuth Toolkit" in a plain string: the admin's menu and
breadcrumbs would show it untranslated. Installed in its place (INSTALLED_APPS); the label
``oauth2_provider`` is the toolkit's, so its migrations and models are unchanged.
"""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.apps import DOTConfig


class OAuth2ProviderConfig(DOTConfig):
    verbose_name = _("Practitioners' software")
