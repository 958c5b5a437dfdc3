"""The NIR as people read it: grouped on a record's page, masked in lists."""

from django import template

from enrollment import nir

register = template.Library()


@register.filter
def nir_grouped(number: str) -> str:
    """``1 85 05 78 006 084 91``, the grouping printed on the Vitale card."""
    return nir.grouped(str(number)) if len(str(number)) == 15 else str(number)


@register.filter
def nir_masked(number: str) -> str:
    """``1 85 •• •• ••• ••• ••``: enough to tell two people apart in a list, no more."""
    return nir.masked(str(number))
