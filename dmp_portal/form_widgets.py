"""Form widgets shared by the apps' forms."""

from django import forms

# A text field, not <input type="date">: Chromium shows a date field in the browser's language
# (mm/dd/yyyy under an English browser, beside a label that asks for DD/MM/YYYY), and its focus
# ring went missing when reached with Tab (tests/e2e). Fields using it accept both formats.
DATE_INPUT = forms.DateInput(
    format="%d/%m/%Y", attrs={"autocomplete": "off", "spellcheck": "false"}
)
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
