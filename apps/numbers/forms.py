from django import forms
from django.core.exceptions import ValidationError

from apps.numbers.models import PhoneNumber
from apps.numbers.services.numbers import EDITABLE_FIELDS
from apps.numbers.validation import destination_normalize


class PhoneNumberForm(forms.ModelForm):
    """A number's label, routing and tracking settings (the number itself comes from Telnyx)."""

    class Meta:
        model = PhoneNumber
        fields = list(EDITABLE_FIELDS)
        labels = {"ivr": "IVR", "forward_timeout": "Ring the destination for (seconds)"}
        help_texts = {
            "queue": "Queue route: the queue callers enter. Agent route: where callers wait while the agent's "
                     "phone rings, and who takes them if the agent cannot (empty: the agent's own first queue).",
            "agent": "Agent route: a direct line to this agent.",
        }
        widgets = {
            "greeting": forms.Textarea(attrs={"rows": 2}),
            "whisper": forms.TextInput(attrs={"placeholder": "Call from {source}"}),
            "forward_to": forms.TextInput(attrs={"placeholder": "+13125550150 or sip:desk@example.com"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Most numbers never need it: left empty, callers get the usual priority.
        self.fields["queue_priority"].required = False

    def clean_queue_priority(self):
        return self.cleaned_data.get("queue_priority") or 0

    def clean_forward_to(self):
        value = self.cleaned_data.get("forward_to") or ""
        if not value:
            return value
        try:
            return destination_normalize(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None
