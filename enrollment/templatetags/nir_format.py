"""The NIR as people read it, grouped as on the Vitale card (lists mask it: ``nir.masked``)."""

from django import template

from enrollment import nir

register = template.Library()


@register.filter
def nir_grouped(number: str) -> str:
    """``1 85 05 78 006 084 91``, the grouping printed on the Vitale card."""
    return nir.grouped(str(number)) if len(str(number)) == 15 else str(number)
