from django.urls import path

from apps.calls.apis import CallDetailApi, CallListApi

urlpatterns = [
    path("", CallListApi.as_view(), name="call-list"),
    path("<int:call_id>/", CallDetailApi.as_view(), name="call-detail"),
]
