"""The professions of the national directory that the portal knows.

A vocabulary of its own, below the models: the profile's ``profession`` field and the import's
row validator (``accounts.validators``) both check against it, and the validator must not
import the models (the models use its RPPS check).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Profession(models.TextChoices):
    """Values of the practitioners CSV ``profession`` column (documented in README)."""

    MEDECIN = "medecin", _("Doctor")
    INFIRMIER = "infirmier", _("Nurse")
    PHARMACIEN = "pharmacien", _("Pharmacist")
    MASSEUR_KINESITHERAPEUTE = "masseur-kinesitherapeute", _("Physiotherapist")
    CHIRURGIEN_DENTISTE = "chirurgien-dentiste", _("Dentist")
    SAGE_FEMME = "sage-femme", _("Midwife")
    ORTHOPHONISTE = "orthophoniste", _("Speech therapist")
    ORTHOPTISTE = "orthoptiste", _("Orthoptist")
    PEDICURE_PODOLOGUE = "pedicure-podologue", _("Podiatrist")
    ERGOTHERAPEUTE = "ergotherapeute", _("Occupational therapist")
    PSYCHOMOTRICIEN = "psychomotricien", _("Psychomotor therapist")
    DIETETICIEN = "dieteticien", _("Dietitian")
    MANIPULATEUR_ERM = "manipulateur-erm", _("Radiographer")
    AUDIOPROTHESISTE = "audioprothesiste", _("Hearing-aid specialist")
    OPTICIEN_LUNETIER = "opticien-lunetier", _("Optician")
