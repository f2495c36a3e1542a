"""Queues, dispositions and an agent's calls: REST API under /api/, pages under /queues/."""

from django.urls import path

from apps.queues import apis, views

urlpatterns = [
    path("queues/", views.queues_page, name="queues-page"),
    path("queues/new/", views.queue_page, name="queue-new-page"),
    path("queues/<int:queue_id>/", views.queue_page, name="queue-page"),
    path("queues/<int:queue_id>/delete/", views.queue_delete_page, name="queue-delete-page"),
    path("queues/dispositions/", views.disposition_create_page, name="disposition-create-page"),
    path("queues/dispositions/<int:disposition_id>/delete/", views.disposition_delete_page,
         name="disposition-delete-page"),
    path("api/queues/", apis.QueueListApi.as_view(), name="queue-list"),
    path("api/queues/<int:queue_id>/", apis.QueueDetailApi.as_view(), name="queue-detail"),
    path("api/queues/<int:queue_id>/entries/", apis.QueueEntryListApi.as_view(), name="queue-entry-list"),
    path("api/queues/entries/<int:entry_id>/priority/", apis.QueueEntryPriorityApi.as_view(),
         name="queue-entry-priority"),
    path("api/dispositions/", apis.DispositionListApi.as_view(), name="disposition-list"),
    path("api/dispositions/<int:disposition_id>/", apis.DispositionDetailApi.as_view(), name="disposition-detail"),
    path("api/offers/<int:offer_id>/", apis.OfferDetailApi.as_view(), name="offer-detail"),
    path("api/offers/<int:offer_id>/accept/", apis.OfferAcceptApi.as_view(), name="offer-accept"),
    path("api/offers/<int:offer_id>/decline/", apis.OfferDeclineApi.as_view(), name="offer-decline"),
    path("api/offers/<int:offer_id>/hold/", apis.OfferHoldApi.as_view(), name="offer-hold"),
    path("api/offers/<int:offer_id>/mute/", apis.OfferMuteApi.as_view(), name="offer-mute"),
    path("api/offers/<int:offer_id>/dtmf/", apis.OfferDtmfApi.as_view(), name="offer-dtmf"),
    path("api/offers/<int:offer_id>/hangup/", apis.OfferHangupApi.as_view(), name="offer-hangup"),
    path("api/offers/<int:offer_id>/transfer/", apis.OfferTransferApi.as_view(), name="offer-transfer"),
    path("api/offers/<int:offer_id>/transfer/complete/", apis.OfferTransferCompleteApi.as_view(),
         name="offer-transfer-complete"),
    path("api/offers/<int:offer_id>/transfer/cancel/", apis.OfferTransferCancelApi.as_view(),
         name="offer-transfer-cancel"),
    path("api/offers/<int:offer_id>/wrap-up/", apis.OfferWrapUpApi.as_view(), name="offer-wrap-up"),
]
