"""Registry admin: identities for the staff who maintain it, the NIR always masked.

No health data lives here. The NIR is never shown in full, and is searched by its blind index
(type the whole number in the search box).
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from enrollment import nir
from enrollment.models import Beneficiary, EnrollmentRequest, Regime
from enrollment.services.registry import nir_index


class BeneficiaryForm(forms.ModelForm):
    regime = forms.ChoiceField(label=_("insurance scheme"), choices=Regime.choices)

    class Meta:
        model = Beneficiary
        fields = ("last_name", "first_name", "birth_date", "regime")


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin):
    form = BeneficiaryForm
    list_display = ("masked_nir", "last_name", "first_name", "enrolled", "updated_at")
    readonly_fields = ("masked_nir", "address_lines", "enrolled")
    fields = (
        "masked_nir",
        "last_name",
        "first_name",
        "birth_date",
        "regime",
        "address_lines",
        "enrolled",
    )
    search_fields = ("nir_index",)
    search_help_text = _("Type a whole social security number.")
    list_select_related = ("data_key",)

    @admin.display(description=_("social security number"))
    def masked_nir(self, obj):
        return nir.masked(obj.nir)

    @admin.display(description=_("postal address"))
    def address_lines(self, obj):
        return " / ".join(obj.address["lines"])

    @admin.display(description=_("record created"), boolean=True)
    def enrolled(self, obj):
        return obj.patient_id is not None

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        try:
            normalised = nir.validate(search_term)
        except forms.ValidationError:
            return queryset.none(), False
        return queryset.filter(nir_index=nir_index(normalised)), False

    def has_add_permission(self, request):
        return False  # the registry comes from the Vitale reference data (import_beneficiaries)


@admin.register(EnrollmentRequest)
class EnrollmentRequestAdmin(admin.ModelAdmin):
    list_display = ("pk", "created_at", "processed_at", "outcome")
    list_filter = ("outcome",)
    readonly_fields = ("created_at", "processed_at", "outcome")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
