"""Registry admin: people of the registry, found by NIR, changed only with four eyes.

No health data lives here. The list decrypts nobody: it shows references and states only. A
person's identity is read by finding them with their whole NIR (a POST: the NIR never travels in
a URL) or by opening their page, and each of those passes the door and lands on their chain,
naming the staff member. The NIR is never shown in full.

Staff never change the registry directly: the change form files a proposal, which a second,
different staff member confirms or rejects (``enrollment.services.registry_changes``). The
beneficiaries CSV import remains the normal way to update the registry.

A person's opposition to the creation of their record is recorded or lifted by one staff member
from the person's page (a POST to ``<id>/opposition/``; ``enrollment.services.opposition`` says
why no second pair of eyes is needed).

A minor's page names their legal representatives (read only: the registry's import sets them),
each name recorded as an identity read on that representative's chain.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dmp_portal.admin_lists import LargeListMixin
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups
from dmp_portal.admin_read_only import ReadOnlyAdminMixin
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.http import client_address
from enrollment import nir, selectors
from enrollment.admin_changes import RegistryChangeAdmin  # noqa: F401 (registers it)
from enrollment.models import (
    Beneficiary,
    EnrollmentRequest,
    Regime,
    RegistryChange,
    RegistryChangeState,
)
from enrollment.postal import build_address
from enrollment.services.opposition import set_opposition
from enrollment.services.registry_changes import (
    RegistryValues,
    StaffRefused,
    changed_fields,
    propose_change,
)

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
        super().clean()
        data = self.cleaned_data  # what clean() returned, typed as never None
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
        values = self.proposed_values(data)
        if not changed_fields(self.instance, values):
            raise ValidationError(_("Nothing to change: the values are those of the registry."))
        if self.instance.registry_changes.filter(state=RegistryChangeState.PENDING).exists():
            raise ValidationError(
                _(
                    "A change to this person is already awaiting confirmation: it must be "
                    "confirmed or rejected first."
                )
            )
        return data

    def proposed_values(self, data=None) -> RegistryValues:
        data = self.cleaned_data if data is None else data
        return {
            "last_name": data["last_name"].strip(),
            "first_name": data["first_name"].strip(),
            "birth_date": data["birth_date"].isoformat(),
            "regime": data["regime"],
            "address": data["address"].as_json(),
        }


class FindByNirForm(forms.Form):
    nir = forms.CharField(label=_("Social security number"), max_length=32)

    def clean_nir(self) -> str:
        return nir.validate(self.cleaned_data["nir"])


@admin.register(Beneficiary)
class BeneficiaryAdmin(LargeListMixin, OfferedLookupsOnly, admin.ModelAdmin):
    form = BeneficiaryForm
    # Clear columns only: listing people decrypts nobody.
    list_display = (
        "reference",
        "enrolled",
        "change_pending",
        "opposed_at",
        "created_at",
        "updated_at",
    )
    list_filter = (
        ("patient", admin.EmptyFieldListFilter),
        ("opposed_at", admin.EmptyFieldListFilter),
    )
    # Whether a record exists, never which one: ?patient=<uuid> would name the person.
    offered_lookups = frozenset({"patient__isempty", "opposed_at__isempty"})
    readonly_fields = ("masked_nir", "address_lines", "enrolled", "opposed_at")
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
                    "opposed_at",
                )
            },
        ),
        (_("Postal address"), {"fields": ("address_lines", *ADDRESS_FIELDS)}),
    )
    change_list_template = "admin/enrollment/beneficiary/change_list.html"
    change_form_template = "admin/enrollment/beneficiary/change_form.html"
    actions = None

    def get_queryset(self, request):
        pending = RegistryChange.objects.filter(
            beneficiary=OuterRef("pk"), state=RegistryChangeState.PENDING
        )
        return super().get_queryset(request).annotate(has_pending_change=Exists(pending))

    @admin.display(description=_("reference"), ordering="uid")
    def reference(self, obj):
        return obj.uid

    @admin.display(description=_("social security number"))
    def masked_nir(self, obj):
        return str(obj.nir) if is_destroyed(obj.nir) else nir.masked(obj.nir)

    @admin.display(description=_("postal address"))
    def address_lines(self, obj):
        if is_destroyed(obj.address):
            return str(obj.address)
        return " / ".join(obj.address["lines"])

    @admin.display(description=_("record created"), boolean=True)
    def enrolled(self, obj):
        return obj.patient_id is not None

    @admin.display(description=_("change awaiting confirmation"), boolean=True)
    def change_pending(self, obj):
        return obj.has_pending_change

    def has_add_permission(self, request):
        return False  # the registry comes from the Vitale reference data (import_beneficiaries)

    def has_delete_permission(self, request, obj=None):
        return False  # nor does anyone leave it through the admin

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Opening a person shows their identity: the door records it first."""
        found = self.get_object(request, unquote(object_id))
        if found is not None and self.has_view_or_change_permission(request, found):
            try:
                selectors.view_identity(
                    request.user, found.pk, client_address=client_address(request)
                )
                # A minor's legal representatives, by name (issue 17): their identities too.
                representatives = selectors.representatives_shown(
                    request.user, found.pk, client_address=client_address(request)
                )
            except StaffRefused:
                raise Http404 from None
            extra_context = {**(extra_context or {}), "representatives": representatives}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """The change form files a proposal; the registry itself is not written here."""
        try:
            propose_change(
                request.user,
                obj.pk,
                form.proposed_values(),
                client_address=client_address(request),
            )
        except StaffRefused:
            request.registry_refused = True

    def save_related(self, request, form, formsets, change):
        pass  # nothing of the person is saved before the second staff member confirms

    def construct_change_message(self, request, form, formsets, add=False):
        return gettext("Proposed a change, awaiting confirmation by another staff member.")

    def response_change(self, request, obj):
        if getattr(request, "registry_refused", False):
            # Returned, not raised: the admin's transaction commits the recorded refusal.
            return HttpResponseNotFound()
        self.message_user(
            request,
            _("Change proposed: another staff member must confirm it before it applies."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:enrollment_registrychange_changelist"))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["may_oppose"] = obj is not None and self.has_change_permission(request, obj)
        context.setdefault("representatives", [])  # none read (change_view reads them)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        find = self.admin_site.admin_view(self.find_by_nir)
        opposition = self.admin_site.admin_view(self.opposition_view)
        return [
            path("find/", find, name="enrollment_beneficiary_find"),
            path(
                "<path:object_id>/opposition/",
                opposition,
                name="enrollment_beneficiary_opposition",
            ),
            *super().get_urls(),
        ]

    def opposition_view(self, request, object_id):
        """POST ``opposition`` = ``set`` or ``lift``, from the person's page (a GET goes back
        there). Needs the change permission on the registry, like a proposed change."""
        found = self.get_object(request, unquote(object_id))
        if found is None:
            raise Http404
        if not self.has_change_permission(request, found):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:enrollment_beneficiary_change", found.pk)
        choice = request.POST.get("opposition")
        if choice not in ("set", "lift"):
            self.message_user(
                request, _("Choose to record or to lift the opposition."), messages.ERROR
            )
            return redirect("admin:enrollment_beneficiary_change", found.pk)
        try:
            set_opposition(
                request.user,
                found.pk,
                opposed=choice == "set",
                client_address=client_address(request),
            )
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return redirect("admin:enrollment_beneficiary_change", found.pk)
        except StaffRefused:
            raise Http404 from None
        done = (
            _("Opposition recorded: no letter will be sent to this person.")
            if choice == "set"
            else _("Opposition lifted: this person may ask for a letter again.")
        )
        self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:enrollment_beneficiary_change", found.pk)

    def find_by_nir(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = FindByNirForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                person = selectors.lookup(
                    request.user, form.cleaned_data["nir"], client_address=client_address(request)
                )
            except StaffRefused:
                raise Http404 from None
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
class EnrollmentRequestAdmin(
    ReadOnlyAdminMixin, LargeListMixin, OfferedLookupsOnly, admin.ModelAdmin
):
    list_display = ("__str__", "created_at", "processed_at", "outcome")
    list_filter = ("outcome",)
    offered_lookups = choice_lookups("outcome")
    readonly_fields = ("created_at", "processed_at", "outcome")
    fields = readonly_fields
    actions = None
