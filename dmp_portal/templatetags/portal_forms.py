from django import template

register = template.Library()


@register.simple_tag
def accessible_widget(field):
    """The widget, tied to its hint and error messages so that screen readers announce them."""
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}_hint")
    described_by += [f"{field.auto_id}_error_{n}" for n in range(1, len(field.errors) + 1)]
    attrs = {}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)
