from django.urls import path

from apps.calls.views import call_detail_page

urlpatterns = [path("<int:call_id>/", call_detail_page, name="call-detail-page")]
