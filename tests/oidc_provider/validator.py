"""The claims of the tests' provider, in Pro Santé Connect's style: ``SubjectNameID`` ("8" then
the RPPS number) in the ID token and the user info, and the authentication level ``acr`` in
the ID token. A provider user's first name holds the level it vouches for and its last name
its SubjectNameID: each test's world says who the provider knows, with which level."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class ProviderValidator(OAuth2Validator):
    # Every claim whatever the scope (Pro Santé Connect's scope_all).
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        return {"acr": request.user.first_name, "SubjectNameID": request.user.last_name}
