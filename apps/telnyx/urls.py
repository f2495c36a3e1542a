from django.urls import path

from apps.telnyx.views import telnyx_webhook

urlpatterns = [path("telnyx/", telnyx_webhook, name="telnyx-webhook")]
