from django.apps import AppConfig


class CryptoSpecimensConfig(AppConfig):
    name = "tests.crypto_specimens"
    label = "crypto_specimens"
