"""What a document's page says of it, besides its content: who added it and who may see it
(``document_facts``), its versions (``document_versions``), and the controls it offers its owner
(``owner_controls``) and its author (``may_act_as_author``).

Apart from ``records.selectors`` (the reads themselves: the list, the document and its file,
each recorded by the door) because none of this reads a document: each answer is the door's,
asked, not recorded (``policy.decide``), for a page ``selectors.document_for`` already opened
and recorded. Each control is recorded when it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.utils.translation import gettext as _

from access_control import policy
from access_control.models import RecordSettings, TreatingPhysician
from audit.models import Action
from records import file_types
from records.models import Document, DocumentStatus
from records.selectors import author_label, practitioner_name

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class DocumentFacts:
    """What the document page says about a document, in words true for its reader."""

    added_by: str
    seen_by: list[str]  # sentences
    file_type: str  # in words: "PDF document"


def document_facts(
    reader: User, document: Document, *, access: policy.RecordAccess | None = None
) -> DocumentFacts:
    """Who added the document and who may see it, as its reader (the patient, or a practitioner
    the door let in) should read it: "you" only for the reader. The rules described are the
    door's (``policy``): a hidden document is seen by the patient, its author and the treating
    physician, never in an emergency; any other by the professionals the patient allowed, within
    their profession's categories, and in an emergency unless the patient refused it."""
    patient = document.patient
    by_patient = document.authored_by_patient
    file_type = file_types.media_type_name(document.media_type)
    if document.author_id == reader.pk:
        added_by = _("You")
    elif by_patient:
        added_by = _("The patient")
    else:
        added_by = author_label(document) or _("A health professional")
    if not document.hidden_from_others:  # hidden neither by the patient nor by its author
        seen_by = [
            _(
                "You, and the health professionals you allowed to read your record (each within"
                " what their profession may read)."
            )
            if reader.pk == patient.pk
            else _(
                "The patient, and the health professionals the patient allowed (each within"
                " what their profession may read)."
            )
        ]
        if not _opted_out(patient, access):
            seen_by.append(
                _(
                    "In an emergency, a professional who declares an emergency access may also"
                    " read it."
                )
            )
        return DocumentFacts(added_by, seen_by, file_type)
    link = (
        TreatingPhysician.objects.select_related("physician__practitioner_profile")
        .filter(patient=patient)
        .first()
    )
    physician = link.physician if link is not None else None
    if not _reads_now(physician, document):
        physician = None
    return DocumentFacts(added_by, [_hidden_seen_by(reader, document, physician)], file_type)


def _opted_out(patient: User, access: policy.RecordAccess | None) -> bool:
    """Whether the patient refused emergency access. A practitioner's door loaded it with its
    relationship (``relationship_of``'s ``opted_out``), for this page's request: read there, not
    queried again (issue 20, item 4); for anyone else (a patient's relationship holds only the
    closure), one query."""
    if (
        access is not None
        and access.patient == patient
        and access.relationship is not None
        and getattr(access.actor, "kind", "") == "practitioner"
    ):
        return access.relationship.opted_out
    return RecordSettings.objects.filter(patient=patient, emergency_opt_out=True).exists()


def _reads_now(practitioner: User | None, document: Document) -> bool:
    """Whether the door would let this practitioner read the document now: a page names
    nobody as able to see it whom the door refuses (a revoked consent, a block). Asked, not
    recorded: saying who may see a document reads nothing of it."""
    if practitioner is None:
        return False
    return policy.decide(practitioner, document.patient, Action.VIEW, document).allowed


def _hidden_seen_by(reader: User, document: Document, physician: User | None) -> str:
    """``physician``: the treating physician, only when the door lets them read it now. The
    author is named only when the door lets them read it now too (else the sentence is the
    one for a document the patient added)."""
    author = {"author": author_label(document)}
    # The treating physician who added it is named once, as its author.
    if physician is not None and physician.pk == document.author_id:
        physician = None
    # The reader who is its author reads it (the door opened this page for them).
    author_unnamed = document.authored_by_patient or (
        reader.pk != document.author_id and not _reads_now(document.author, document)
    )
    if reader.kind == "patient" and reader.pk != document.patient_id:
        # Someone acting for the patient (issue 17): a legal representative sees what the
        # patient sees (a caregiver is never shown a hidden document at all).
        return _(
            "Hidden from health professionals: only the patient, and whoever acts for them as"
            " their legal representative, may see it."
        )
    if reader.pk == document.patient_id:
        if author_unnamed:
            if physician is None:
                return _("Hidden from health professionals: only you may see it.")
            return _(
                "Hidden from health professionals: only you and %(physician)s, your treating"
                " physician, may see it."
            ) % {"physician": practitioner_name(physician)}
        if physician is None:
            return (
                _(
                    "Hidden from health professionals: only you and %(author)s, its author, may"
                    " see it."
                )
                % author
            )
        return _(
            "Hidden from health professionals: only you, %(author)s, its author, and"
            " %(physician)s, your treating physician, may see it."
        ) % {**author, "physician": practitioner_name(physician)}
    by_author_only = not document.hidden_from_practitioners  # the author's choice alone
    if reader.pk == document.author_id and by_author_only:
        if physician is None:
            return _(
                "Hidden by you from other health professionals: only the patient and you may"
                " see it."
            )
        return _(
            "Hidden by you from other health professionals: only the patient, you and their"
            " treating physician may see it."
        )
    if by_author_only and not author_unnamed:
        return (
            _(
                "Hidden by its author from other health professionals: only the patient,"
                " %(author)s, its author, and you, their treating physician, may see it."
            )
            % author
        )
    if reader.pk == document.author_id:
        if physician is None:
            return _(
                "Hidden by the patient from health professionals: only the patient and you, its"
                " author, may see it."
            )
        return _(
            "Hidden by the patient from health professionals: only the patient, you, its author,"
            " and their treating physician may see it."
        )
    if author_unnamed:
        return _(
            "Hidden by the patient from health professionals: only the patient and you, their"
            " treating physician, may see it."
        )
    return (
        _(
            "Hidden by the patient from health professionals: only the patient, %(author)s, its"
            " author, and you, their treating physician, may see it."
        )
        % author
    )


@dataclass(frozen=True)
class VersionRow:
    uid: UUID
    added_at: datetime
    added_by: str
    current: bool
    viewed: bool  # the version whose page this is
    openable: bool  # the door lets this reader open it (from the current version)


def document_versions(
    reader: User,
    document: Document,
    *,
    acting_for: bool = False,
    access: policy.RecordAccess | None = None,
) -> list[VersionRow]:
    """The versions of ``document``'s chain, the current one first, for its page (shown to
    whoever the door let read it). Whether each may be opened is the door's answer (an earlier
    version is read as the current one is: ``policy.decide``), asked, not recorded: the page
    reads none of them; opening one is a read of its own, recorded then. Empty when the
    document has a single version."""
    chain = document.versions()
    if len(chain) < 2:
        return []
    door = door_for(reader, document, access, acting_for=acting_for)
    return [
        VersionRow(
            uid=version.uid,
            added_at=version.created_at,
            added_by=_("You") if version.author_id == reader.pk else _version_author(version),
            current=index == 0,
            viewed=version.pk == document.pk,
            openable=door.decide(Action.VIEW, version).allowed,
        )
        for index, version in enumerate(chain)
    ]


def _version_author(version: Document) -> str:
    if version.authored_by_patient:
        return _("The patient")
    return author_label(version) or _("A health professional")


@dataclass(frozen=True)
class OwnerControls:
    """The owner's controls a document page offers (review of issue 17, finding 2): each the
    door's answer for this reader, asked, not recorded (each is recorded when used)."""

    hide: bool = False
    show: bool = False
    delete: bool = False


def owner_controls(
    reader: User,
    document: Document,
    *,
    acting_for: bool = False,
    access: policy.RecordAccess | None = None,
) -> OwnerControls:
    """Hide from, show again to practitioners, delete: offered to a patient (the owner, or a
    representative acting for them) only when the door would allow it. A practitioner's own
    controls are the author's (``may_act_as_author``)."""
    if reader.kind != "patient" or document.status == DocumentStatus.REPLACED:
        return OwnerControls()

    door = door_for(reader, document, access, acting_for=acting_for)

    def allowed(action: Action) -> bool:
        return door.decide(action, document).allowed

    hidden = document.hidden_from_practitioners
    return OwnerControls(
        hide=not hidden and allowed(Action.HIDE),
        show=hidden and allowed(Action.SHOW),
        delete=allowed(Action.DELETE),
    )


def may_act_as_author(
    reader: User, document: Document, *, access: policy.RecordAccess | None = None
) -> bool:
    """Whether the page offers its author's controls (a new version first of all): the door's
    answer for REPLACE, asked, not recorded (each control is recorded when used)."""
    return door_for(reader, document, access).decide(Action.REPLACE, document).allowed


def door_for(
    reader: User,
    document: Document,
    access: policy.RecordAccess | None,
    *,
    acting_for: bool = False,
) -> policy.RecordAccess:
    """The door for ``reader`` on ``document``'s record (issue 20, item 2): ``access``, the one
    that opened the page (``selectors.opened_document``), when it answers for the same reader,
    record and switch; else one loaded here (its relationship once for the whole answer)."""
    if access is not None and (access.actor != reader or access.patient != document.patient):
        # As in ``policy.authorize``: an answer computed for someone else opens nothing here.
        raise ValueError("door_for() was given the access of another reader or record")
    if access is not None and access.acting_for == acting_for:
        return access
    return policy.access_to(reader, document.patient, acting_for=acting_for)
