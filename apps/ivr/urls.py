from django.urls import path

from apps.ivr.apis import (
    IvrCallPathApi,
    IvrChoicesApi,
    IvrFlowDetailApi,
    IvrFlowListApi,
    IvrFlowNumberAssignApi,
    IvrFlowNumberReleaseApi,
)

urlpatterns = [
    path("flows/", IvrFlowListApi.as_view(), name="ivr-flow-list"),
    path("flows/<int:flow_id>/", IvrFlowDetailApi.as_view(), name="ivr-flow-detail"),
    path("flows/<int:flow_id>/numbers/", IvrFlowNumberAssignApi.as_view(), name="ivr-flow-number-assign"),
    path("flows/<int:flow_id>/numbers/<int:number_id>/", IvrFlowNumberReleaseApi.as_view(),
         name="ivr-flow-number-release"),
    path("choices/", IvrChoicesApi.as_view(), name="ivr-choices"),
    path("calls/<int:call_id>/path/", IvrCallPathApi.as_view(), name="ivr-call-path"),
]
