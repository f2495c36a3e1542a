"""The Telnyx Numbers API calls this app makes, through the one Telnyx client.

Paths, query parameters and the few fields we read live here, so services
speak in numbers and orders rather than URLs. Reads are retried by the
client; writes are not (see ``TelnyxClient.request``), and a number order
is never POSTed twice blindly: :func:`order_find` recovers one whose answer
was lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from apps.telnyx.client import TelnyxError, get_client

# A search is a read the admin waits for: fail fast rather than hold the page.
SEARCH_TIMEOUT_SECONDS = 5.0
SEARCH_ATTEMPTS = 2
# A caller-name lookup runs in a task; a slow one only delays the name.
LOOKUP_TIMEOUT_SECONDS = 5.0
LOOKUP_ATTEMPTS = 2
PAGE_SIZE = 250  # the largest page Telnyx's phone_numbers list allows

SEARCH_FILTERS = (
    "country_code", "national_destination_code", "locality", "administrative_area", "rate_center",
    "phone_number_type", "features", "quickship", "best_effort", "limit",
)


@dataclass
class AvailableNumber:
    phone_number: str
    country: str = ""
    locality: str = ""
    region: str = ""
    rate_center: str = ""
    number_type: str = ""
    features: list[str] = field(default_factory=list)
    quickship: bool = False
    best_effort: bool = False
    monthly_cost: str = ""
    upfront_cost: str = ""
    currency: str = ""

    @classmethod
    def from_api(cls, row: dict, number_type: str = "") -> AvailableNumber:
        regions = {r.get("region_type"): r.get("region_name") for r in row.get("region_information") or []}
        cost = row.get("cost_information") or {}
        return cls(
            phone_number=row["phone_number"],
            country=regions.get("country_code") or "",
            locality=regions.get("location") or "",
            region=regions.get("state") or "",
            rate_center=regions.get("rate_center") or "",
            number_type=number_type,
            features=[f["name"] for f in row.get("features") or [] if f.get("name")],
            quickship=bool(row.get("quickship")),
            best_effort=bool(row.get("best_effort")),
            monthly_cost=str(cost.get("monthly_cost") or ""),
            upfront_cost=str(cost.get("upfront_cost") or ""),
            currency=cost.get("currency") or "",
        )


def _filter_params(filters: dict) -> list[tuple[str, str]]:
    """Telnyx's deepObject filters: ``filter[locality]=Chicago``, ``filter[features][]=sms``."""
    params: list[tuple[str, str]] = []
    for name in SEARCH_FILTERS:
        value = filters.get(name)
        if value in (None, "", [], False):
            continue
        if isinstance(value, (list, tuple)):
            params += [(f"filter[{name}][]", str(v)) for v in value]
        elif isinstance(value, bool):
            params.append((f"filter[{name}]", "true"))
        else:
            params.append((f"filter[{name}]", str(value)))
    return params


def inventory_search(filters: dict) -> list[AvailableNumber]:
    """Numbers Telnyx has for sale that match ``filters`` (see SEARCH_FILTERS)."""
    body = get_client().request(
        "GET", "/available_phone_numbers", params=_filter_params(filters),
        timeout=SEARCH_TIMEOUT_SECONDS, attempts=SEARCH_ATTEMPTS,
    )
    kind = filters.get("phone_number_type") or ""
    return [AvailableNumber.from_api(row, kind) for row in body.get("data") or []]


def order_create(*, phone_number: str, customer_reference: str, connection_id: str = "") -> dict:
    body = {"phone_numbers": [{"phone_number": phone_number}], "customer_reference": customer_reference}
    if connection_id:
        body["connection_id"] = connection_id
    return get_client().request("POST", "/number_orders", json=body)["data"]


def order_get(order_id: str) -> dict:
    return get_client().request("GET", f"/number_orders/{quote(order_id, safe='')}")["data"]


def order_find(customer_reference: str) -> dict | None:
    """The order placed with this reference, if Telnyx has one (a POST whose answer we lost)."""
    body = get_client().request(
        "GET", "/number_orders", params={"filter[customer_reference]": customer_reference}
    )
    rows = body.get("data") or []
    return rows[0] if rows else None


def owned_find(e164: str) -> dict | None:
    """The account's number record for ``e164`` (its Telnyx id), or None."""
    digits = e164.lstrip("+")
    body = get_client().request("GET", "/phone_numbers", params={"filter[phone_number]": digits})
    return next((row for row in body.get("data") or [] if row.get("phone_number") == e164), None)


def owned_pages():
    """Every number the account has, page by page (for the import)."""
    page = 1
    while True:
        body = get_client().request(
            "GET", "/phone_numbers", params={"page[number]": page, "page[size]": PAGE_SIZE}
        )
        yield body.get("data") or []
        total_pages = int((body.get("meta") or {}).get("total_pages") or 1)
        if page >= total_pages:
            return
        page += 1


def number_assign(*, telnyx_id: str, connection_id: str) -> dict:
    """Point the number's inbound calls at our Call Control application."""
    return get_client().request(
        "PATCH", f"/phone_numbers/{quote(telnyx_id, safe='')}", json={"connection_id": connection_id}
    )["data"]


def number_delete(telnyx_id: str) -> bool:
    """Release the number at Telnyx. Returns False if Telnyx no longer had it (already gone)."""
    try:
        get_client().request("DELETE", f"/phone_numbers/{quote(telnyx_id, safe='')}")
    except TelnyxError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def caller_name(e164: str) -> str:
    """The CNAM caller name Telnyx Number Lookup knows for ``e164`` ('' for none)."""
    body = get_client().request(
        "GET", f"/number_lookup/{quote(e164, safe='+')}", params={"type": "caller-name"},
        timeout=LOOKUP_TIMEOUT_SECONDS, attempts=LOOKUP_ATTEMPTS,
    )
    found = (body.get("data") or {}).get("caller_name") or {}
    return str(found.get("caller_name") or "").strip()
