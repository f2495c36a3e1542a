from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from apps.recordings.models import Recording
from apps.recordings.selectors import recording_visible_to

CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}


@login_required
def recording_audio(request, recording_id: int):
    """Stream a recording to a user allowed to hear it. Recordings have no public URL."""
    recording = get_object_or_404(Recording, pk=recording_id)
    if not recording_visible_to(request.user, recording):
        raise PermissionDenied
    if recording.status != Recording.Status.STORED or not recording.file:
        raise Http404("This recording is not available yet.")
    response = FileResponse(recording.file.open("rb"), content_type=CONTENT_TYPES.get(recording.format, "audio/mpeg"))
    response["Cache-Control"] = "private, no-store"
    return response
