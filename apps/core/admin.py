"""Django admin for people: role admins add logins and put them in roles.

A role admin holds the ``auth`` user and group permissions so that adding an
agent's login does not need a superuser. Django's own user form would let
them tick "superuser" or hand out single permissions, which is a way past
their role; here only a superuser sees those fields or edits a superuser.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

User = get_user_model()

_SUPERUSER_ONLY = ("is_superuser", "user_permissions")


class PeopleAdmin(UserAdmin):
    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in _SUPERUSER_ONLY]})
            for name, options in fieldsets
        ]

    def get_queryset(self, request):
        users = super().get_queryset(request)
        return users if request.user.is_superuser else users.filter(is_superuser=False)


admin.site.unregister(User)
admin.site.register(User, PeopleAdmin)
