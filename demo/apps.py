from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and synthetic data (seed_demo, seed_bulk): outside the floors of the portal, which
    never imports it; it writes through the apps' models and services like any client."""

    name = "demo"
    verbose_name = "Demo data"
