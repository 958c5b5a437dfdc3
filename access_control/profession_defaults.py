"""The default profession rules seeded in the table (changed only by a reviewed migration).

Every profession reads every category except these. A category with no rule for a profession
is refused: a new category is readable only once a migration says who may read it.
"""

DENIED = {
    "pharmacien": {"psychiatrie"},
    "chirurgien-dentiste": {"psychiatrie", "directives-anticipees"},
    "opticien-lunetier": {"psychiatrie", "directives-anticipees"},
    "audioprothesiste": {"psychiatrie", "directives-anticipees"},
    "dieteticien": {"psychiatrie"},
    "pedicure-podologue": {"psychiatrie"},
}


def seed_profession_rules(rule_model, category_model, professions) -> None:
    for category in category_model.objects.all():
        for profession in professions:
            rule_model.objects.get_or_create(
                profession=profession,
                category=category,
                defaults={"may_read": category.code not in DENIED.get(profession, set())},
            )
