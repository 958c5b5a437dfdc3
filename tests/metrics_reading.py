"""Reading /metrics as Prometheus would: the scrape, and one series' value in it."""

from __future__ import annotations

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "a-scraper-token-of-forty-characters-long"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def scrape() -> str:
    """The whole exposition (the caller sets ``settings.METRICS_TOKEN = TOKEN``)."""
    response = Client().get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 when none)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )
