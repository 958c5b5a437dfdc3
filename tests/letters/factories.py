"""Builders of the letter's content, with the values a real letter carries (a sender from the
settings, a creation code, an address in the window)."""

from __future__ import annotations

import datetime

from letters.rendering.content import LetterContent, Sender


def make_sender(**changes) -> Sender:
    values = {
        "name": "Agence du dossier médical",
        "address_lines": ("Service des inscriptions", "TSA 12345", "75000 PARIS"),
        "phone": "01 99 00 12 34",
        "phone_hours": "appel non surtaxé, du lundi au vendredi de 8 h à 18 h",
        "email": "contact@example.org",
        "dpo_contact": "DPO, TSA 12346, 75000 PARIS",
        "place": "Paris",
        "signatory": ("La cheffe du service des inscriptions",),
        "retention": "un an après l'envoi",
    }
    return Sender(**{**values, **changes})


def make_content(**changes) -> LetterContent:
    """A creation letter's content; ``reactivation=True`` makes it a reactivation letter."""
    values = {
        "reference": "L-7K2QD9XW",
        "issued_on": datetime.date(2026, 11, 28),
        "address_lines": ("MADAME CLAIRE DUPONT", "12 RUE DES LILAS", "75011 PARIS"),
        "creation_code": "7K2Q-D9XW-3MNP",
        "expires_on": datetime.date(2027, 1, 27),
        "activate_url": "https://dmp.example.fr/enrollment/activate/",
        "request_url": "https://dmp.example.fr/enrollment/",
        "portal_address": "dmp.example.fr",
        "sender": make_sender(),
    }
    return LetterContent(**{**values, **changes})
