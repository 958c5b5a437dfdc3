"""The public pages: texts in the templates, the operator's identity and the service's
figures from settings, so that one deployment's details never sit in the code."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


def _operator() -> dict[str, object]:
    """Who runs the portal (dmp_portal/settings/public_pages.py), addresses as their lines."""
    return {
        "name": settings.DMP_OPERATOR_NAME,
        "address_lines": settings.DMP_OPERATOR_ADDRESS,
        "address": ", ".join(settings.DMP_OPERATOR_ADDRESS),
        "registration": settings.DMP_OPERATOR_REGISTRATION,
        "phone": settings.DMP_OPERATOR_PHONE,
        "email": settings.DMP_OPERATOR_EMAIL,
        "publication_director": settings.DMP_PUBLICATION_DIRECTOR,
        "dpo_contact": settings.DMP_DPO_CONTACT,
        "host_name": settings.DMP_HOST_NAME,
        "host_address_lines": settings.DMP_HOST_ADDRESS,
        "host_phone": settings.DMP_HOST_PHONE,
    }


def _page(request: HttpRequest, template: str) -> HttpResponse:
    return render(
        request,
        f"public_pages/{template}.html",
        {
            "operator": _operator(),
            "site_url": settings.DMP_SITE_URL,
            "code_validity_days": settings.ENROLLMENT_CODE_VALIDITY_DAYS,
            "resend_delay_days": settings.ENROLLMENT_RESEND_DELAY_DAYS,
            "dispatch_days": settings.LETTER_DISPATCH_DEADLINE_DAYS,
            "emergency_minutes": settings.EMERGENCY_ACCESS_MINUTES,
            "backup_code_count": settings.BACKUP_CODE_COUNT,
        },
    )


@require_GET
def legal_notice(request: HttpRequest) -> HttpResponse:
    return _page(request, "legal")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return _page(request, "privacy")


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return _page(request, "accessibility")


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    return _page(request, "help")
