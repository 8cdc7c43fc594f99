from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """Django's admin app, with `staff.site.StaffSite` as its default site."""

    default_site = "staff.site.StaffSite"


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff"
