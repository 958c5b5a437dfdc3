# Type stubs for the part of django-otp 1.x this project uses (django-otp ships no types).
from django.contrib.admin import AdminSite
from django.http import HttpRequest

class OTPAdminSite(AdminSite):
    def __init__(self, name: str = "otpadmin") -> None: ...
    def has_permission(self, request: HttpRequest) -> bool: ...
