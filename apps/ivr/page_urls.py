from django.urls import path

from apps.ivr.views import ivr_flow_builder_page, ivr_flow_list_page

urlpatterns = [
    path("", ivr_flow_list_page, name="ivr-flows-page"),
    path("new/", ivr_flow_builder_page, name="ivr-flow-new-page"),
    path("<int:flow_id>/", ivr_flow_builder_page, name="ivr-flow-page"),
]
