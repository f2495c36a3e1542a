import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.calls.models import Call
from apps.numbers.models import PhoneNumber

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=role)[0])
        self.save()


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber
        django_get_or_create = ("e164",)

    e164 = factory.Sequence(lambda n: f"+1312555{n:04d}")
    label = "Test line"


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    call_control_id = factory.Sequence(lambda n: f"v3:test-call-{n}")
    direction = Call.Direction.INBOUND
    from_number = "+15551230001"
    to_number = "+13125550100"
