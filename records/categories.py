"""The DMP's classes of documents, as the rows that rules and filters refer to."""

DEFAULT_CATEGORIES = [
    ("synthese", "Synthèse médicale", "Medical summary"),
    ("traitements", "Traitements et soins", "Treatments and care"),
    ("comptes-rendus", "Comptes rendus", "Reports"),
    ("imagerie", "Imagerie médicale", "Medical imaging"),
    ("biologie", "Biologie", "Laboratory results"),
    ("prevention", "Prévention et vaccination", "Prevention and vaccination"),
    ("certificats", "Certificats", "Certificates"),
    ("directives-anticipees", "Directives anticipées", "Advance directives"),
    ("psychiatrie", "Comptes rendus psychiatriques", "Psychiatric reports"),
    ("autres", "Autres documents", "Other documents"),
]


def seed_categories(category_model) -> None:
    """Create the default categories that are missing; labels a migration changed are kept."""
    for position, (code, label_fr, label_en) in enumerate(DEFAULT_CATEGORIES):
        category_model.objects.get_or_create(
            code=code,
            defaults={"label_fr": label_fr, "label_en": label_en, "position": position},
        )
