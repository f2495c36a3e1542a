"""Numbers: admin pages under /numbers/, REST API under /api/numbers/."""

from django.urls import path

from apps.numbers import apis, views

urlpatterns = [
    path("numbers/", views.numbers_page, name="numbers-page"),
    path("numbers/<int:number_id>/", views.number_edit_page, name="number-edit-page"),
    path("numbers/<int:number_id>/release/", views.number_release_page, name="number-release-page"),
    path("api/numbers/", apis.NumberListApi.as_view(), name="number-list"),
    path("api/numbers/available/", apis.NumberSearchApi.as_view(), name="number-search"),
    path("api/numbers/orders/", apis.NumberOrderApi.as_view(), name="number-order"),
    path("api/numbers/import/", apis.NumberImportApi.as_view(), name="number-import"),
    path("api/numbers/jobs/", apis.NumberJobListApi.as_view(), name="number-job-list"),
    path("api/numbers/jobs/<int:job_id>/", apis.NumberJobDetailApi.as_view(), name="number-job-detail"),
    path("api/numbers/jobs/<int:job_id>/retry/", apis.NumberJobRetryApi.as_view(), name="number-job-retry"),
    path("api/numbers/<int:number_id>/", apis.NumberDetailApi.as_view(), name="number-detail"),
    path("api/numbers/<int:number_id>/release/", apis.NumberReleaseApi.as_view(), name="number-release"),
]
