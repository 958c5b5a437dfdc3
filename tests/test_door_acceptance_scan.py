"""Acceptance of issue 12, first half: every module of the product that reads a document, its
file, a patient's identity or a letter is known, with the reason it is safe.

``test_every_reader_of_health_data_or_identity_is_reviewed`` lists, by reading the source (ast),
every module of the product that touches ``Document``, ``Beneficiary`` or ``Letter`` rows (their
managers, the relations that lead to them, their admin) or decrypts a file (``open_decrypted``).
A module that is not in ``REVIEWED`` fails it: a new reader must be looked at, and the reason it
is safe written down, before it ships. tests/test_door_acceptance.py then checks the pages and
commands of these modules through a door that refuses everything.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.db.models import ForeignObjectRel

ROOT = Path(__file__).resolve().parent.parent

# --- Which modules read what the door guards ---------------------------------------------------

GUARDED_MODELS = ("records.Document", "enrollment.Beneficiary", "letters.Letter")
# Outside the product (README, "Layout"): nothing in the product imports them.
NOT_THE_PRODUCT = {"tests", "bench", "scripts", "node_modules", "var", "static", "templates"}

# Every module of the product that touches a guarded row or decrypts a file, with the reason it
# is safe. tests/test_door_acceptance.py checks the pages and commands named here through a
# refusing door.
REVIEWED = {
    "fhir_api/selectors.py": "the FHIR API's reads (issue 19): search_documents lists after "
    "authorize(LIST) with the door's list filter in the same transaction, read_document goes "
    "through records.selectors.document_for, search_patient through find_patient and "
    "patient_identity (tests/fhir_api/test_door_refusing.py)",
    "fhir_api/views.py": "the FHIR API's views: only the documents search_documents returned, "
    "and the file of a document read_document let through (tests/fhir_api/test_door_refusing.py)",
    "access_control/history.py": "titles of the history page, after authorize(VIEW_HISTORY) "
    "in the same transaction (test_history_page_refuses)",
    "access_control/history_rows.py": "the titles of the history page's rows, read by "
    "access_control.history after authorize(VIEW_HISTORY) in the same transaction, named only "
    "when the door lets the reader view the document (test_history_page_refuses)",
    "access_control/selectors.py": "find_patient and patient_identity: the look-up and the "
    "identity on the practitioner's page (test_lookup_*, test_identity_*)",
    "access_control/caregivers.py": "issue 17: identify() compares the three facts a patient "
    "typed with the registry row of the account named, answering only match or not (the same "
    "work and answer whatever is wrong, throttled, recorded); the caregivers' page names the "
    "two people of one's own grants only (tests/access_control/test_caregivers.py)",
    "access_control/acting.py": "issue 17, item 3: name_of() names the owner of a record one "
    "may act on (the door asked first: a live tie, an open record), in the banner and the "
    "switch of that person only, and a helper in the owner's history "
    "(tests/access_control/test_acting.py)",
    "access_control/deaths.py": "recording a death: reads a registry entry's ids only "
    "(NIR look-up and identity through enrollment.selectors, authorize_staff first; the "
    "identity only for a pending proposal of someone else; tests/access_control/test_death.py)",
    "enrollment/admin.py": "the registry admin: staff pass authorize_staff (test_registry_admin_*)",
    "enrollment/admin_changes.py": "the review queue of proposed registry changes: the "
    "person's uid only; the review page decrypts after authorize_staff (test_registry_admin_*)",
    "enrollment/services/registry_changes.py": "propose, confirm or reject a registry change: "
    "authorize_staff in the transaction of the change (tests/test_admin_registry.py)",
    "enrollment/selectors.py": "staff look-up by NIR and identity page: "
    "authorize_staff before anything is decrypted (test_registry_admin_*)",
    "enrollment/letters.py": "writes the creation letter to the person's address of record, "
    "in the rendering task: no person reads it before the export",
    "enrollment/services/activation.py": "activation by the holder of the letter's code: the "
    "code is the proof; nothing of the person is shown",
    "enrollment/services/codes.py": "a returned letter supersedes the person's codes: reads "
    "the row's id only",
    "enrollment/services/registry.py": "import_beneficiaries writes the registry from the "
    "reference file (operator command): it shows nothing",
    "enrollment/services/representatives.py": "the import's representative_nirs column "
    "(operator command): finds each representative by blind index, reads their birth date to "
    "refuse a minor, asks authorize_staff before each link; it shows nothing",
    "enrollment/services/requests.py": "the background decision whether a letter goes out: "
    "the row's state only, never shown",
    "enrollment/services/minors.py": "the background decision which legal representatives of "
    "a minor get a letter: registry links and states only, never shown",
    "enrollment/services/majority.py": "the daily coming of age: birth dates of represented "
    "records decrypted in the background to decide who turned 18, and the takeover letter's "
    "state; nothing shown to anyone (tests/enrollment/test_majority.py)",
    "enrollment/services/representation.py": "a minor's code used by the representative it "
    "names (the code and their own logged-in account are the proof): the child's name is "
    "shown to that representative only (tests/enrollment/test_minor_activation.py)",
    "letters/admin.py": "references, states and dates only; its export is letters.services' "
    "(test_admin_letter_export_refuses)",
    "letters/selectors.py": "overdue letters: states and dates, nothing decrypted",
    "letters/services.py": "rendering (task) and export: the export passes the staff door "
    "(test_export_letters_refuses)",
    "records/admin.py": "documents in the admin: the columns stored in clear only, never a "
    "title, a description or a file",
    "demo/bulk_seed.py": "synthetic records for the benchmark, written by an operator "
    "command; it reads nothing back",
    "records/downloads.py": "the rows a file is opened from, given to selectors.opened_document, "
    "which decides first (tests/records/test_download_queries.py, test_content_*)",
    "records/selectors.py": "the record's list, page, file and upload check: authorize first "
    "(test_record_pages_refuse, test_content_*)",
    "records/services.py": "upload, hide, show, delete: authorize in the transaction of the "
    "change (test_record_changes_refuse, test_uploads_refuse)",
    "records/versions.py": "replace, hold, reveal, withdraw: authorize in the transaction of "
    "the change (tests/records/test_versions.py); the daily reveal is recorded by the door "
    "(policy.record_delay_reveal) and shows nothing",
    "records/search_tokens.py": "the search's tokens: matching narrows a queryset the door "
    "already filtered (records.selectors.record_page); index_missing writes tokens for "
    "manage.py index_search_tokens and the migration, showing nothing "
    "(tests/records/test_search_tokens.py)",
    "records/models.py": "a version's chain (current_version, versions): read by the door and "
    "by pages the door already opened, nothing decrypted",
    "dmp_portal/crypto/files.py": "defines open_decrypted",
    "demo/demo_data.py": "seed_demo writes the demo registry and patient; it shows nothing",
    "access_control/purge.py": "the purge (operator command, daily task) of a record whose "
    "archive ended: asks the door first and authorize in the transaction of the purge; reads "
    "ids, key ids and file names to delete them, decrypts and shows nothing "
    "(test_purge_records_refuses, tests/access_control/test_purge.py)",
    "access_control/record_export.py": "the export: the patient's documents through the door's "
    "list filter (access.documents()), after authorize(EXPORT) in the same transaction "
    "(tests/records/test_export.py)",
    "access_control/confidential.py": "issue 17, item 4: a minor's confidential care; reads "
    "the registry's birth date (never shown) only after the door allowed the author's change, "
    "the upload or the page's control (tests/records/test_confidential_pages.py)",
    "enrollment/services/opposition.py": "an opposition: the registry row locked and changed "
    "after authorize_staff in the same transaction, nothing decrypted nor shown "
    "(tests/enrollment/test_opposition.py)",
}


def _guarded_names() -> tuple[set[str], set[str]]:
    """The guarded classes' names and tables, and every attribute that leads to their rows: each
    model's relations to and from them (``user.documents``, ``user.beneficiary``,
    ``code.beneficiary``)."""
    models = {apps.get_model(label) for label in GUARDED_MODELS}
    classes = {model.__name__ for model in models} | {model._meta.db_table for model in models}
    relations = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not field.is_relation or field.related_model is None:
                continue
            if field.related_model in models and not field.auto_created:
                relations.add(field.name)  # forward: code.beneficiary
            if model in models and not field.auto_created and field.related_model not in models:
                remote = field.remote_field
                accessor = (
                    remote.get_accessor_name() if isinstance(remote, ForeignObjectRel) else None
                )
                if accessor and not accessor.endswith("+"):
                    relations.add(accessor)  # reverse: user.documents
    return classes, relations


def _product_modules() -> Iterator[Path]:
    for package in sorted(ROOT.iterdir()):
        if package.name in NOT_THE_PRODUCT or not (package / "__init__.py").exists():
            continue
        for path in sorted(package.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def guarded_reads(source: str, classes: set[str], relations: set[str]) -> list[str]:
    """What a module touches: ``Document.objects``, ``open_decrypted``, ``x.beneficiary``..."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            if (
                isinstance(node.value, ast.Name)
                and node.value.id in classes
                and node.attr in {"objects", "_default_manager", "_base_manager"}
            ):
                hits.append(f"{node.value.id}.{node.attr}")
            elif node.attr in relations:
                hits.append(f".{node.attr}")
            elif node.attr == "open_decrypted":
                hits.append("open_decrypted")
        elif isinstance(node, ast.Name) and node.id == "open_decrypted":
            hits.append("open_decrypted")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            hits.extend(
                f"sql:{name}"
                for name in classes
                if re.search(rf'\b(FROM|JOIN|UPDATE|INTO)\s+"?{name}\b', node.value, re.I)
            )
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
            node.name == "open_decrypted"
        ):
            hits.append("def open_decrypted")
        elif isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "register"
                    and any(isinstance(a, ast.Name) and a.id in classes for a in decorator.args)
                ):
                    hits.append("admin.register")
    return sorted(set(hits))


def test_the_scan_sees_each_kind_of_read():
    """The scanner itself can fail: each way of reaching a guarded row is seen."""
    classes, relations = _guarded_names()
    assert {"documents", "beneficiary"} <= relations
    assert guarded_reads("Document.objects.all()", classes, relations) == ["Document.objects"]
    assert guarded_reads("user.beneficiary.last_name", classes, relations) == [".beneficiary"]
    assert guarded_reads("for d in user.documents.all(): pass", classes, relations) == [
        ".documents"
    ]
    assert guarded_reads("from x import open_decrypted", classes, relations) == []
    assert guarded_reads("open_decrypted(s, n, k, a)", classes, relations) == ["open_decrypted"]
    registered = "@admin.register(Letter)\nclass A: pass"
    assert guarded_reads(registered, classes, relations) == ["admin.register"]
    assert guarded_reads("Category.objects.all()", classes, relations) == []
    raw = 'cursor.execute("SELECT title FROM records_document")'
    assert guarded_reads(raw, classes, relations) == ["sql:records_document"]


def test_every_reader_of_health_data_or_identity_is_reviewed():
    classes, relations = _guarded_names()
    found = {}
    for path in _product_modules():
        hits = guarded_reads(path.read_text(encoding="utf-8"), classes, relations)
        if hits:
            found[path.relative_to(ROOT).as_posix()] = hits
    unreviewed = {module: hits for module, hits in found.items() if module not in REVIEWED}
    assert unreviewed == {}, "review these readers and add them to REVIEWED with a reason"
    stale = set(REVIEWED) - set(found)
    assert stale == set(), "these modules no longer read guarded rows: drop them from REVIEWED"
