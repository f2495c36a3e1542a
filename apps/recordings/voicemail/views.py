from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from apps.agents.selectors import agent_phone_for
from apps.core.roles import Role, user_can
from apps.recordings.voicemail.apis import SESSION_PHONE
from apps.recordings.voicemail.selectors import voicemail_user_may_act


@login_required
def voicemail_page(request):
    """Voicemail boxes and messages (a Preact page over the API). Agents and supervisors."""
    if not voicemail_user_may_act(request.user):
        raise PermissionDenied
    return render(request, "voicemail/voicemail.html", {
        "callback_phone": (request.session.get(SESSION_PHONE, "") if user_can(request.user, Role.SUPERVISOR) else "")
        or agent_phone_for(request.user),
        "can_edit_boxes": user_can(request.user, Role.ADMIN),
        # Agents call back from their own phone only (see VoicemailCallbackApi).
        "phone_editable": user_can(request.user, Role.SUPERVISOR),
    })
