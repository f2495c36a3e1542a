from django.urls import path

from apps.recordings.voicemail.views import voicemail_page

urlpatterns = [path("", voicemail_page, name="voicemail-page")]
