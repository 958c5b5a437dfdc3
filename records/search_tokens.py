"""Search without decrypting the record (issue 20, item 5): keyed tokens of a title's words.

A title is encrypted at rest; beside it, its document keeps one token per word prefix of
``MIN_PREFIX`` to ``MAX_PREFIX`` characters, and one per whole word (any length). A token is an
HMAC (``dmp_portal.crypto.hashing``, its own purpose key) of the patient's id and the folded
text, so equal words in two records give different tokens: a token of one patient never matches
another patient's document, and the table says nothing readable without the root key.
A search turns each word it is given into the token that must be present (a prefix token for
3 characters and more, the whole-word token under 3), and the database keeps the documents
holding all of them, through the token index: only the page's titles are decrypted.
"""

from __future__ import annotations

import re
import unicodedata
from uuid import UUID

from django.db.models import QuerySet

from dmp_portal.crypto.hashing import keyed_hash
from records.models import Document, SearchToken

MIN_PREFIX = 3
# Prefixes longer than this are not stored: a word typed longer than it is looked up by its first
# MAX_PREFIX characters (a medical word rarely shares its first 20 letters with another).
MAX_PREFIX = 20
PURPOSE = "records-search"
# A word: a run of letters or digits once folded ("compte-rendu" is two words, "4998" is one).
_WORD = re.compile(r"[^\W_]+")


def folded(text: str) -> str:
    """``text`` as search compares it: without accents (NFKD, combining marks dropped) and
    casefolded, so that "paracetamol" finds "Paracétamol" and "PARACÉTAMOL" finds "paracetamol"."""
    if text.isascii():  # nothing to decompose: the common case of a search typed without accents
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return _WORD.findall(folded(text))


def _token(patient_id: UUID, kind: str, text: str) -> str:
    # 128 bits of the HMAC: collisions are out of reach, and the index stays small.
    return keyed_hash(PURPOSE, f"{patient_id}|{kind}|{text}")[:32]


def title_tokens(patient_id: UUID, title: str) -> set[str]:
    """Every token a title is found by: its words whole, and their prefixes of 3 to 20."""
    tokens = set()
    for word in words(title):
        tokens.add(_token(patient_id, "word", word))
        for end in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1):
            tokens.add(_token(patient_id, "prefix", word[:end]))
    return tokens


def query_tokens(patient_id: UUID, query: str) -> set[str]:
    """The tokens a matching title must all hold: each word of 3 characters or more is a
    prefix (its first 20 when longer), a shorter one a whole word. Empty when ``query`` has no
    word (only punctuation): ``matching`` then finds nothing."""
    tokens = set()
    for word in words(query):
        if len(word) < MIN_PREFIX:
            tokens.add(_token(patient_id, "word", word))
        else:
            tokens.add(_token(patient_id, "prefix", word[:MAX_PREFIX]))
    return tokens


def matching(documents: QuerySet[Document], patient_id: UUID, query: str) -> QuerySet[Document]:
    """``documents`` (of this patient's record) whose title has every word of ``query``, as a
    whole word or a word's beginning: one indexed look-up per word, in the database. A document
    whose data key is destroyed is never found (its title is gone)."""
    tokens = query_tokens(patient_id, query)
    if not tokens:
        return documents.none()
    for token in tokens:
        documents = documents.filter(
            pk__in=SearchToken.objects.filter(token=token).values("indexed_document_id")
        )
    return documents.filter(data_key__destroyed_at__isnull=True)


def tokens_of(documents: list[Document]) -> list[SearchToken]:
    """The token rows of saved documents' titles, to insert in one ``bulk_create`` (bulk
    writers of documents, such as the demo's and the benchmark's seeds, call it too)."""
    return [
        SearchToken(indexed_document=document, token=token)
        for document in documents
        for token in title_tokens(document.patient_id, document.title)
    ]


def index_title(document: Document) -> None:
    """Store the tokens of a saved document's title, replacing any it had: call it in the
    transaction that saves the title."""
    SearchToken.objects.filter(indexed_document=document).delete()
    SearchToken.objects.bulk_create(tokens_of([document]))


def index_missing(batch: int = 500) -> int:
    """Tokens for every document that has none: those from before the tokens existed (a
    document whose key is destroyed gets none: its title is gone). Returns how many documents
    were indexed. Run by the migration that adds the tokens and by
    ``manage.py index_search_tokens``."""
    done, last = 0, 0
    pending = (
        Document.objects.filter(search_tokens__isnull=True, data_key__destroyed_at__isnull=True)
        .select_related("data_key")
        .order_by("pk")
    )
    while chunk := list(pending.filter(pk__gt=last)[:batch]):
        SearchToken.objects.bulk_create(tokens_of(chunk), batch_size=5000)
        done, last = done + len(chunk), chunk[-1].pk
    return done
