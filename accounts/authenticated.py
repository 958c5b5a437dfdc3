"""The request of a signed-in user, as the type checker sees it."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """The request of a view behind ``login_required``: its user is signed in, never anonymous.

    For the type checker only (Django still builds a plain HttpRequest): annotating a view with
    it states what its decorator guarantees, so that the view may read ``request.user.kind``.
    """

    user: User
