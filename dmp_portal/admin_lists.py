"""Admin lists that stay fast on tables of millions of rows.

Django's change list counts its rows twice on every page: ``COUNT(*)`` of the filtered list for
the paginator, and of the whole table for "N results (M total)". On PostgreSQL a ``COUNT(*)``
reads every row (or every entry of an index), so on the audit trail, the documents, the letters,
the registry or the accounts, each page of the list would cost a scan of the whole table.

Here the whole-table count is never made (``show_full_result_count = False``), facet counts are
never offered (on any list: ``NoFacetCounts``), and the paginator counts at most ``exact_up_to``
rows of an unfiltered list: a table no larger is counted exactly, a larger one is given
PostgreSQL's own estimate of its size (``pg_class.reltuples``, kept up to date by autovacuum's
ANALYZE). A filtered or searched list is counted exactly: its count runs on what the filter
selects, and its last page must be right.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def table_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the number of rows of the queryset's table; None elsewhere
    (the development SQLite database), or when the table was never analysed."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        found = cursor.fetchone()
    if found is None or found[0] < 0:
        return None
    return int(found[0])


def is_whole_table(queryset: QuerySet) -> bool:
    """True when the list shows every row of its table: no filter, search or limit."""
    query = queryset.query
    return (
        not query.where and not query.combinator and query.low_mark == 0 and query.high_mark is None
    )


class EstimatedCountPaginator(Paginator):
    """Exact for a filtered list and for a small table; the planner's estimate for a large
    unfiltered one (its last page number is then approximate, which a list sorted newest first
    never needs)."""

    exact_up_to = 10_000
    # Whether ``count`` is the planner's estimate (the list then says "about N").
    estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or not is_whole_table(queryset):
            return super().count
        # Counting the first rows only: stops after exact_up_to + 1, whatever the table's size.
        counted = queryset.order_by()[: self.exact_up_to + 1].count()
        estimate = table_estimate(queryset)
        if counted <= self.exact_up_to or estimate is None or estimate <= counted:
            return counted
        self.estimated = True
        return estimate


class NoFacetCounts:
    """Mixed into every ModelAdmin of the portal (``tests/test_admin_lists.py`` checks each one
    registered): the list never offers « Afficher les nombres ». Facets count the rows behind
    every choice of every filter on each page, one more ``COUNT`` each, which no list needs and
    no large table can afford."""

    show_facets = admin.ShowFacets.NEVER


class LargeListMixin(NoFacetCounts):
    """Mixed into the ModelAdmin of a table that grows without end: no whole-table count, no
    facet counts, and the estimating paginator."""

    paginator: ClassVar[type] = EstimatedCountPaginator
    show_full_result_count = False
