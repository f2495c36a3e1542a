from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/", include("apps.telnyx.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/calls/", include("apps.calls.urls")),
    path("calls/", include("apps.calls.page_urls")),
    path("recordings/", include("apps.recordings.urls")),
    path("api/ivr/", include("apps.ivr.urls")),
    path("ivr/", include("apps.ivr.page_urls")),
    path("api/voicemail/", include("apps.recordings.voicemail.urls")),
    path("voicemail/", include("apps.recordings.voicemail.page_urls")),
    path("", include("apps.numbers.urls")),
    path("", include("apps.agents.urls")),
    path("", include("apps.queues.urls")),
    path("", include("apps.analytics.urls")),
    path("", include("apps.core.urls")),
]
