"""The error of a posted resource (issue 19, item 2): read by ``documents_in`` and
``categories_in``, raised again by ``services``, answered by the views as an OperationOutcome."""

from __future__ import annotations


class BadResource(Exception):
    """The request cannot be read as what the endpoint expects. ``code``: FHIR's IssueType
    (``structure``, ``invalid``, ``required``, ``too-long``, ``not-supported``...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
