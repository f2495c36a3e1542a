from django.urls import path

from apps.recordings.voicemail.apis import (
    VoicemailBoxListApi,
    VoicemailBoxUpdateApi,
    VoicemailCallbackApi,
    VoicemailHandleApi,
    VoicemailListApi,
)

urlpatterns = [
    path("boxes/", VoicemailBoxListApi.as_view(), name="voicemail-box-list"),
    path("boxes/<int:box_id>/", VoicemailBoxUpdateApi.as_view(), name="voicemail-box-update"),
    path("boxes/<int:box_id>/messages/", VoicemailListApi.as_view(), name="voicemail-list"),
    path("messages/<int:voicemail_id>/handle/", VoicemailHandleApi.as_view(), name="voicemail-handle"),
    path("messages/<int:voicemail_id>/callback/", VoicemailCallbackApi.as_view(), name="voicemail-callback"),
]
