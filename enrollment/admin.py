"""Registry admin: identities for the staff who maintain it, the NIR always masked.

No health data lives here. The NIR is never shown in full, and never travels in a URL: the
"find by social security number" form is a POST that leads to the person's page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from dmp_portal.crypto.fields import is_destroyed
from enrollment import nir
from enrollment.models import Beneficiary, EnrollmentRequest, Regime
from enrollment.postal import build_address
from enrollment.services.registry import nir_index

ADDRESS_FIELDS = ("delivery_point", "building", "street", "locality", "postcode", "city", "country")


class BeneficiaryForm(forms.ModelForm):
    """The same rules as the CSV import; the address lines are rebuilt from their parts."""

    birth_date = forms.DateField(
        label=_("date of birth"), input_formats=["%Y-%m-%d"], help_text=_("YYYY-MM-DD")
    )
    regime = forms.ChoiceField(label=_("insurance scheme"), choices=Regime.choices)
    delivery_point = forms.CharField(label=_("delivery point (flat, c/o)"), required=False)
    building = forms.CharField(label=_("building"), required=False)
    street = forms.CharField(label=_("number and street"), required=False)
    locality = forms.CharField(label=_("lieu-dit or PO box"), required=False)
    postcode = forms.CharField(label=_("postcode"))
    city = forms.CharField(label=_("city"))
    country = forms.CharField(label=_("country (empty: France)"), required=False)

    class Meta:
        model = Beneficiary
        fields = ("last_name", "first_name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and not is_destroyed(instance.address):
            self.initial.update(instance.address.get("parts", {}))
            self.initial["birth_date"] = instance.birth_date
            self.initial["regime"] = instance.regime

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["address"] = build_address(
                first_name=data["first_name"],
                last_name=data["last_name"],
                **{name: data.get(name, "") for name in ADDRESS_FIELDS},
            )
        except ValidationError as error:
            raise ValidationError(error.messages) from error
        return data

    def save(self, commit=True):
        beneficiary = super().save(commit=False)
        beneficiary.birth_date = self.cleaned_data["birth_date"].isoformat()
        beneficiary.regime = self.cleaned_data["regime"]
        beneficiary.address = self.cleaned_data["address"].as_json()
        if commit:
            beneficiary.save()
        return beneficiary


class FindByNirForm(forms.Form):
    nir = forms.CharField(label=_("Social security number"), max_length=32)

    def clean_nir(self) -> str:
        return nir.validate(self.cleaned_data["nir"])


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin):
    form = BeneficiaryForm
    list_display = ("masked_nir", "shown_last_name", "shown_first_name", "enrolled", "updated_at")
    readonly_fields = ("masked_nir", "address_lines", "enrolled")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "masked_nir",
                    "last_name",
                    "first_name",
                    "birth_date",
                    "regime",
                    "enrolled",
                )
            },
        ),
        (_("Postal address"), {"fields": ("address_lines", *ADDRESS_FIELDS)}),
    )
    list_select_related = ("data_key",)
    change_list_template = "admin/enrollment/beneficiary/change_list.html"

    @admin.display(description=_("social security number"))
    def masked_nir(self, obj):
        return str(obj.nir) if is_destroyed(obj.nir) else nir.masked(obj.nir)

    @admin.display(description=_("last name"))
    def shown_last_name(self, obj):
        return str(obj.last_name)

    @admin.display(description=_("first name"))
    def shown_first_name(self, obj):
        return str(obj.first_name)

    @admin.display(description=_("postal address"))
    def address_lines(self, obj):
        if is_destroyed(obj.address):
            return str(obj.address)
        return " / ".join(obj.address["lines"])

    @admin.display(description=_("record created"), boolean=True)
    def enrolled(self, obj):
        return obj.patient_id is not None

    def has_add_permission(self, request):
        return False  # the registry comes from the Vitale reference data (import_beneficiaries)

    def get_urls(self):
        find = self.admin_site.admin_view(self.find_by_nir)
        return [path("find/", find, name="enrollment_beneficiary_find"), *super().get_urls()]

    def find_by_nir(self, request):
        form = FindByNirForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            found = Beneficiary.objects.filter(nir_index=nir_index(form.cleaned_data["nir"]))
            person = found.values_list("pk", flat=True).first()
            if person is not None:
                return redirect(reverse("admin:enrollment_beneficiary_change", args=[person]))
            messages.info(request, _("Nobody in the registry has this number."))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Find an insured person"),
        }
        return TemplateResponse(request, "admin/enrollment/beneficiary/find.html", context)


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
