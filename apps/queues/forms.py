from django import forms

from apps.agents.models import Agent, Skill
from apps.queues.models import Queue
from apps.queues.services.config import SETTINGS

LEVELS = [(0, "–")] + [(n, str(n)) for n in range(1, 11)]


class QueueForm(forms.ModelForm):
    """A queue's settings, its members (with priority) and the skills its callers need."""

    hold_audio_url = forms.URLField(max_length=500, required=False, assume_scheme="https", label="Hold audio URL",
                                    help_text=Queue._meta.get_field("hold_audio_url").help_text)

    class Meta:
        model = Queue
        fields = list(SETTINGS)
        labels = {
            "ring_timeout_secs": "Ring each agent for (seconds)",
            "wrap_up_secs": "Wrap-up time (seconds)",
            "hold_audio_url": "Hold audio URL",
            "hold_text": "Hold message",
            "announce_every_secs": "Announce position every (seconds)",
            "max_wait_secs": "Maximum wait (seconds)",
            "overflow_action": "Then",
            "service_level_secs": "Service level: answered within (seconds)",
        }
        widgets = {"hold_text": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        queue = self.instance if self.instance.pk else None
        self.fields["overflow_queue"].queryset = Queue.objects.exclude(pk=queue.pk) if queue else Queue.objects.all()
        self.agents = list(Agent.objects.select_related("user"))
        self.skills = list(Skill.objects.all())
        members = {m.agent_id: m.priority for m in queue.memberships.all()} if queue else {}
        required = {s.skill_id: s.min_level for s in queue.required_skills.all()} if queue else {}
        for agent in self.agents:
            self.fields[f"member_{agent.pk}"] = forms.BooleanField(required=False, label=agent.name,
                                                                   initial=agent.pk in members)
            self.fields[f"priority_{agent.pk}"] = forms.IntegerField(
                required=False, min_value=1, max_value=99, initial=members.get(agent.pk, 1), label="priority"
            )
        for skill in self.skills:
            self.fields[f"skill_{skill.pk}"] = forms.TypedChoiceField(
                choices=LEVELS, coerce=int, required=False, label=skill.name, initial=required.get(skill.pk, 0)
            )

    def member_rows(self):
        return [(agent, self[f"member_{agent.pk}"], self[f"priority_{agent.pk}"]) for agent in self.agents]

    def skill_fields(self):
        return [self[f"skill_{skill.pk}"] for skill in self.skills]

    def settings_values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in SETTINGS}

    def members(self) -> list[tuple[Agent, int]]:
        return [(agent, self.cleaned_data.get(f"priority_{agent.pk}") or 1) for agent in self.agents
                if self.cleaned_data.get(f"member_{agent.pk}")]

    def required_skills(self) -> list[tuple[Skill, int]]:
        return [(skill, self.cleaned_data[f"skill_{skill.pk}"]) for skill in self.skills
                if self.cleaned_data.get(f"skill_{skill.pk}")]


class DispositionForm(forms.Form):
    name = forms.CharField(max_length=60)
