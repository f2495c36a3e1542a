from django import forms
from django.contrib.auth import get_user_model

from apps.agents.models import Agent, Skill

LEVELS = [(0, "–")] + [(n, str(n)) for n in range(1, 11)]


class AgentForm(forms.Form):
    """An agent's phone and skills (the user is chosen when the agent is created)."""

    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False,
                                  help_text="The login that becomes an agent (they get the agent role).")
    endpoint = forms.ChoiceField(choices=Agent.Endpoint.choices, label="Phone")
    telephony_credential_id = forms.CharField(required=False, max_length=64, label="Telnyx credential id",
                                              help_text="Browser softphone: the telephony credential it logs in with.")
    sip_username = forms.CharField(required=False, max_length=64, label="Credential SIP username",
                                   help_text="gencred…: calls ring sip:<username>@sip.telnyx.com.")
    sip_uri = forms.CharField(required=False, max_length=255, label="SIP URI",
                              widget=forms.TextInput(attrs={"placeholder": "sip:alice@example.com"}))
    phone_number = forms.CharField(required=False, max_length=20, label="Phone number",
                                   widget=forms.TextInput(attrs={"placeholder": "+13125550190"}))

    def __init__(self, *args, agent: Agent | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.skills = list(Skill.objects.all())
        current = {s.skill_id: s.level for s in agent.agent_skills.all()} if agent else {}
        for skill in self.skills:
            self.fields[f"skill_{skill.pk}"] = forms.TypedChoiceField(
                choices=LEVELS, coerce=int, required=False, label=skill.name, initial=current.get(skill.pk, 0)
            )
        if agent is None:
            self.fields["user"].queryset = get_user_model().objects.filter(agent__isnull=True, is_active=True)
            self.fields["user"].required = True
        else:
            del self.fields["user"]

    def skill_fields(self):
        return [self[f"skill_{skill.pk}"] for skill in self.skills]

    def endpoint_values(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in
                ("endpoint", "telephony_credential_id", "sip_username", "sip_uri", "phone_number")}

    def skill_levels(self) -> list[tuple[Skill, int]]:
        return [(skill, self.cleaned_data.get(f"skill_{skill.pk}") or 0) for skill in self.skills
                if self.cleaned_data.get(f"skill_{skill.pk}")]


class SkillForm(forms.Form):
    name = forms.CharField(max_length=50)
    description = forms.CharField(max_length=200, required=False)
