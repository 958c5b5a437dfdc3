"""Access-control data: consents, blocks, access requests, emergencies, treating physicians,
profession rules and record settings (defined in ``consent_models``, registered here).

The audit trail, which these decisions are recorded in, is an app of its own: ``audit``.
"""

from access_control.consent_models import (
    AccessRequest,
    Block,
    Consent,
    EmergencyAccess,
    ProfessionRule,
    RecordSettings,
    TreatingPhysician,
)

__all__ = [
    "AccessRequest",
    "Block",
    "Consent",
    "EmergencyAccess",
    "ProfessionRule",
    "RecordSettings",
    "TreatingPhysician",
]
