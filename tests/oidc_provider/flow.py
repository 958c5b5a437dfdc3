"""A browser's trip through the sign-in, step by step, with a plain HTTP client: the portal
sends it to the provider, the person logs in there, the provider sends it back. Step by step so
that a test can read and alter what travels (the state, the nonce, the PKCE challenge), as an
attacker on the way would."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import requests

PASSWORD = "mot-de-passe-du-fournisseur"


def browser() -> requests.Session:
    session = requests.Session()
    session.headers["Accept-Language"] = "fr"
    return session


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    """``url`` with some of its query's parameters replaced."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode({**query_of(url), **changes})))


def to_provider(client: requests.Session, site: str) -> str:
    """The portal's first step: the provider's authorization address it sends the browser to."""
    answer = client.get(f"{site}/oidc/authenticate/", allow_redirects=False)
    assert answer.status_code == 302, answer.status_code
    return answer.headers["Location"]


def at_provider(client: requests.Session, authorize_url: str, username: str) -> str:
    """The person logs in at the provider: the portal's callback address it sends them back to."""
    answer = client.get(authorize_url, allow_redirects=False)
    assert answer.status_code == 302, (answer.status_code, answer.text[:500])
    login_url = urljoin(authorize_url, answer.headers["Location"])
    client.get(login_url)
    answer = client.post(
        login_url,
        data={
            "username": username,
            "password": PASSWORD,
            "next": query_of(login_url)["next"],
            "csrfmiddlewaretoken": client.cookies["provider_csrftoken"],
        },
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    answer = client.get(urljoin(login_url, answer.headers["Location"]), allow_redirects=False)
    assert answer.status_code == 302, (answer.status_code, answer.text[:500])
    return answer.headers["Location"]


def sign_in(
    client: requests.Session,
    site: str,
    username: str,
    on_the_way: Callable[[str], str] = lambda url: url,
) -> requests.Response:
    """The whole trip; ``on_the_way`` may alter the authorization address before the provider
    reads it. The portal's last answer, not followed (a redirect)."""
    callback = at_provider(client, on_the_way(to_provider(client, site)), username)
    return client.get(callback, allow_redirects=False)
