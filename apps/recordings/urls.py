from django.urls import path

from apps.recordings.views import recording_audio

urlpatterns = [path("<int:recording_id>/audio/", recording_audio, name="recording-audio")]
