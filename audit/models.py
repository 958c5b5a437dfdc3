"""The audit trail's data: chains, events, signed checkpoints, and the words they use.

The audit trail is append-only. Events form one hash chain per patient record, plus a system chain
for events with no patient, so that reads of different patients never wait on each other. The
writer is ``audit.trail.record_event``; ``audit.verify`` recomputes the chains. On PostgreSQL a
trigger (access_control migration 0001) refuses UPDATE, DELETE and TRUNCATE of events; the Python
guards below only stop honest mistakes earlier, and on the development SQLite database.

The tables keep the names they had when these models lived in ``access_control`` (``db_table``):
the triggers, the grants (deploy/postgres/roles.sql) and existing databases name them so.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The value a chain starts from: the "previous MAC" of its first event.
GENESIS_MAC = "0" * 64
SYSTEM_CHAIN_KEY = "system"
ANONYMOUS_ROLE = "anonymous"


class Action(models.TextChoices):
    LIST = "list", _("List documents")
    VIEW = "view", _("View a document")
    DOWNLOAD = "download", _("Download a document")
    EXPORT = "export", _("Export the record")
    UPLOAD = "upload", _("Upload a document")
    HIDE = "hide", _("Hide a document")
    SHOW = "show", _("Show a document again")
    DELETE = "delete", _("Delete a document")
    LOOKUP = "lookup", _("Look up a patient")
    GRANT = "grant", _("Grant access")
    REVOKE = "revoke", _("Revoke access")
    BLOCK = "block", _("Block a practitioner")
    UNBLOCK = "unblock", _("Unblock a practitioner")
    EMERGENCY = "emergency", _("Declare an emergency access")
    VIEW_HISTORY = "view-history", _("View the access history")
    # A login's steps, on the account's chain (a patient's own, else the system chain): the
    # password step, then the login itself, complete once the second factor is right.
    LOGIN = "login", _("Login")
    LOGIN_PASSWORD = "login-password", _("Login: password step")
    REQUEST_ACCESS = "request-access", _("Request access")
    # Staff actions on the registry of insured people (identity and postal address, never
    # health content): each one passes the door and lands on the person's chain.
    VIEW_IDENTITY = "view-identity", _("View the identity")
    PROPOSE_CHANGE = "propose-change", _("Propose a change to the identity or address")
    CONFIRM_CHANGE = "confirm-change", _("Confirm a change to the identity or address")
    EXPORT_LETTER = "export-letter", _("Export a letter for posting")
    # A letter the mail house sent back: its code stops working, a postal fact about the person.
    MARK_RETURNED = "mark-returned", _("Mark a letter as returned undelivered")
    # Staff closing an emergency access in the review queue: recorded on the patient's chain,
    # so the patient's history says who reviewed the emergency on their record.
    REVIEW_EMERGENCY = "review-emergency", _("Review an emergency access")
    # The account's events are named by nouns (« Connexion », « Ajout d'une clé d'accès »...),
    # as the history lists what happened, not what to do.
    # Opening an account with a letter's code, on the patient's chain: the first activation,
    # a reactivation letter sent after a request on /enrollment/, and the reactivation itself
    # (new password, every second factor removed).
    ACTIVATE = "activate", _("Record opened with a letter")
    REQUEST_REACTIVATION = "request-reactivation", _("Reactivation letter sent")
    REACTIVATE = "reactivate", _("Account reactivated with a letter")
    # Passkeys (issue 15): on the person's own chain for a patient, else the system chain.
    ADD_PASSKEY = "add-passkey", _("Passkey added")
    REMOVE_PASSKEY = "remove-passkey", _("Passkey removed")
    LOGIN_PASSKEY = "login-passkey", _("Login with a passkey")
    # Issue 15, getting back in: a reset link asked for (or for an unknown address, on the
    # system chain), a password reset or changed, a contact address confirmed or removed.
    PASSWORD_RESET_REQUEST = "password-reset-request", _("Password reset link requested")
    PASSWORD_RESET = "password-reset", _("Password reset")
    PASSWORD_CHANGE = "password-change", _("Password change")
    CONTACT_EMAIL = "contact-email", _("Contact e-mail address change")
    # The end of a session: logged out, ended from the sessions page, or ended by staff.
    LOGOUT = "logout", _("Logout")
    END_SESSION = "end-session", _("Session ended")
    # Staff lifting a login throttle, and sending a practitioner a new invitation (their
    # password, second factors and sessions are reset): on the system chain.
    LIFT_THROTTLE = "lift-throttle", _("Login throttle lifted")
    REINVITE = "reinvite", _("New invitation sent")
    # An authenticator app set up (first login, after a reactivation or a new invitation), with
    # its new backup codes: on the person's own chain for a patient, else the system chain.
    ADD_TOTP = "add-totp", _("Authenticator app added")
    # A one-time code for a staff member's first passkey, issued by an operator's command (no
    # actor) or by another staff member: on the system chain.
    ISSUE_PASSKEY_ENROLMENT = "issue-passkey-enrolment", _("Passkey enrolment code issued")
    # Issue 16, the record's whole life, on the patient's chain. A document's author replaces
    # it with a new version, holds it back from the patient until an announcement consultation,
    # reveals it (or the daily task does, its delay over: no actor) and withdraws it.
    REPLACE = "replace", _("Replace a document with a new version")
    HOLD = "hold", _("Hold a document back until its announcement")
    REVEAL = "reveal", _("Reveal a document to the patient")
    WITHDRAW = "withdraw", _("Withdraw a document")
    # The record closed by its patient or after a death, reopened during the archive period,
    # purged once it ended (no actor: the daily purge, or an operator's command).
    CLOSE_RECORD = "close-record", _("Close the record")
    REOPEN_RECORD = "reopen-record", _("Reopen the record")
    PROPOSE_DEATH = "propose-death", _("Propose to record a death")
    CONFIRM_DEATH = "confirm-death", _("Confirm a death")
    PURGE_RECORD = "purge-record", _("Purge the record")
    # Staff (or the registry's import) setting or lifting a person's opposition to the creation
    # of their record: on the person's registry chain.
    SET_OPPOSITION = "set-opposition", _("Record an opposition to the record's creation")
    LIFT_OPPOSITION = "lift-opposition", _("Lift an opposition to the record's creation")
    # Issue 17: the registry's import linking a minor to a legal representative (or undoing it),
    # on the child's chain: their registry chain, or their record's once it exists.
    LINK_REPRESENTATIVE = "link-representative", _("Legal representative linked")
    UNLINK_REPRESENTATIVE = "unlink-representative", _("Legal representative unlinked")
    # Issue 17: the patient invites a caregiver and ends the invitation (through the door, the
    # owner's only); the invited person accepts or declines it (on the owner's chain).
    INVITE_CAREGIVER = "invite-caregiver", _("Invite a caregiver")
    END_CAREGIVER = "end-caregiver", _("End a caregiver's access")
    ACCEPT_CAREGIVER = "accept-caregiver", _("Accept to be a caregiver")
    DECLINE_CAREGIVER = "decline-caregiver", _("Decline to be a caregiver")
    # Issue 17: on the 18th birthday the daily task ends each legal representation (no actor,
    # reason ``majority``), and the young adult takes the record over with their letter's code;
    # both on the young adult's chain (enrollment.services.majority).
    END_REPRESENTATION = "end-representation", _("Legal representation ended")
    TAKE_OVER = "take-over", _("Record taken over at majority with a letter")
    # Issue 17, item 4: a minor's document kept confidential from their legal representatives
    # by its practitioner author (public health code art. L1111-5), and that confidentiality
    # lifted (the minor agreed): on the minor's chain.
    HIDE_FROM_REPRESENTATIVES = (
        "hide-from-representatives",
        _("Keep a document confidential from the legal representatives"),
    )
    SHOW_TO_REPRESENTATIVES = (
        "show-to-representatives",
        _("Lift a document's confidentiality from the legal representatives"),
    )
    # Issue 17: someone acting for the patient reads who may read the record (/access/): an
    # access to another person's record, recorded (the owner's own reading is not).
    VIEW_CONSENTS = "view-consents", _("View who may read the record")
    # Issue 19: a practitioner approving or refusing an application on the consent page, and
    # revoking its access from their connected applications page: on the system chain, the
    # event naming the application (its client id), never a code or a token.
    APPROVE_APPLICATION = "approve-application", _("Application approved")
    REFUSE_APPLICATION = "refuse-application", _("Application refused")
    REVOKE_APPLICATION = "revoke-application", _("Application's access revoked")


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    REFUSED = "refused", _("Refused")


class Mode(models.TextChoices):
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")
    # Issue 17: someone acting on another person's record, the owner being the event's patient.
    REPRESENTATIVE = "representative", _("Legal representative")
    CAREGIVER = "caregiver", _("Caregiver")


def patient_chain_key(patient_id: object) -> str:
    return f"patient:{patient_id}"


REGISTRY_CHAIN_PREFIX = "registry:"


def registry_chain_key(beneficiary_id: object) -> str:
    """The chain of a person of the registry who has no record (yet): staff actions on their
    identity, address and letters are recorded there, not on the shared system chain."""
    return f"{REGISTRY_CHAIN_PREFIX}{beneficiary_id}"


class AuditChain(models.Model):
    """The head of one chain: its last sequence number and MAC.

    record_event locks this row (SELECT ... FOR UPDATE), so writers of one chain take turns and
    its sequence stays gapless; writers of other chains never touch it. The head also lets
    verification notice a deleted tail, which the events alone cannot show.
    """

    key = models.CharField(_("chain"), max_length=64, unique=True)
    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    last_sequence = models.BigIntegerField(default=0)
    last_mac = models.CharField(max_length=64, default=GENESIS_MAC)

    class Meta:
        verbose_name = _("audit chain")
        verbose_name_plural = _("audit chains")
        db_table = "access_control_auditchain"
        constraints = [
            models.CheckConstraint(
                condition=Q(last_sequence__gte=0), name="auditchain_sequence_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.key


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk edits are refused too: a row of the audit trail, once written, is evidence. (The
    database refuses them as well, by trigger; this says so earlier, in Python.)"""

    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    """Rows that are inserted once, never saved again nor deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are append-only")


class AuditEvent(AppendOnlyModel):
    """One access (or refused access) to a record, or a patient-less event such as a login.

    Identifies people by internal ids only: never a NIR, a name or a document title, so that the
    trail itself holds no health data and can be shown to staff.
    """

    chain = models.ForeignKey(AuditChain, on_delete=models.PROTECT, related_name="events")
    sequence = models.BigIntegerField()
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The actor's kind and RPPS number at the time: accounts change, the trail does not.
    actor_role = models.CharField(_("actor role"), max_length=16)
    actor_rpps = models.CharField(_("RPPS number"), max_length=11, blank=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # No foreign key: the trail outlives documents and must not block their deletion.
    document_uid = models.UUIDField(_("document"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.NORMAL)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    # Issue 19: the OAuth2 application (its client id) through which a practitioner's software
    # made the call; empty for the web pages, commands and tasks. Part of the MAC when set.
    application = models.CharField(_("application"), max_length=100, blank=True, default="")
    previous_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        db_table = "access_control_auditevent"
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"], name="auditevent_chain_sequence"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="auditevent_sequence_from_1"),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="auditevent_outcome_known"
            ),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="auditevent_mode_known"),
        ]
        indexes = [
            # The patient's history page: newest first.
            models.Index(fields=["patient", "-occurred_at"], name="auditevent_patient_time"),
            # The admin's list by time.
            models.Index(fields=["occurred_at"], name="auditevent_time"),
            # The beat that queues lost access requests again (every five minutes, a day back):
            # the allowed requests only, not every event of the day.
            models.Index(
                fields=["occurred_at"],
                condition=Q(action=Action.REQUEST_ACCESS, outcome=Outcome.ALLOWED),
                name="auditevent_allowed_request",
            ),
        ]

    def __str__(self) -> str:
        # Shown as the admin's page title: never the chain, which names the record.
        return gettext("%(action)s, %(outcome)s (no. %(number)s)") % {
            "action": self.get_action_display(),
            "outcome": self.get_outcome_display(),
            "number": self.pk,
        }


class AuditCheckpoint(AppendOnlyModel):
    """A signed statement of chain heads, written every few minutes by ``write_checkpoint``.

    Checkpoints are numbered 1, 2, 3... and each signs the digest of the one before, so that they
    form a chain of their own: a deleted checkpoint leaves a gap, an edited one a broken link. A
    checkpoint stores only the heads that moved since the previous one (``AuditCheckpointHead``):
    the latest head of every chain is in the last checkpoint that saw it move, and the whole set
    is covered by the chain of signatures. See ``audit.checkpoints``.
    """

    # The primary key, known before the row is written: the heads are inserted first, in
    # batches as they are read, and the checkpoint last, once their digest is known (the foreign
    # key is checked at commit).
    number = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField()
    format_version = models.PositiveSmallIntegerField()
    key_id = models.CharField(max_length=16)
    # Every chain in the snapshot, and how many of them moved (rows in AuditCheckpointHead).
    chain_count = models.BigIntegerField()
    head_count = models.BigIntegerField()
    heads_digest = models.CharField(max_length=64)
    previous_digest = models.CharField(max_length=64)
    # SHA-256 of the signed statement: what the next checkpoint links to.
    digest = models.CharField(max_length=64)
    signature = models.BinaryField(max_length=64)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        db_table = "access_control_auditcheckpoint"
        constraints = [
            models.CheckConstraint(
                condition=Q(number__gte=1), name="auditcheckpoint_number_from_1"
            ),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.number}"


class AuditCheckpointHead(AppendOnlyModel):
    """One chain head as a checkpoint saw it: (checkpoint, chain) -> (sequence, MAC).

    Compact on purpose, as there may be millions per checkpoint: no surrogate id (the composite
    primary key serves the verifier's ordering, one index by chain the writer's probes), the chain
    by id without a foreign key (a deleted chain must remain visible here, as evidence), and the
    MAC as 32 bytes.
    """

    pk = models.CompositePrimaryKey("checkpoint", "chain_id")
    checkpoint = models.ForeignKey(AuditCheckpoint, on_delete=models.PROTECT, related_name="+")
    chain_id = models.BigIntegerField()
    sequence = models.BigIntegerField()
    mac = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("audit checkpoint head")
        verbose_name_plural = _("audit checkpoint heads")
        db_table = "access_control_auditcheckpointhead"
        indexes = [
            # The latest recorded head of a chain, which the checkpoint writer compares with the
            # chain's last event: one index-only probe per chain, in this append-only table.
            models.Index(
                fields=["chain_id", "checkpoint"],
                include=["sequence"],
                name="auditcheckpointhead_chain",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint_id}/{self.chain_id}#{self.sequence}"
