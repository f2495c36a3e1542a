"""Numbers: a searchable inventory, orders, owned numbers and lookups.

The inventory is the same on every start (its own fixed seed) and uses
ranges set aside for fiction where the country has one: NANP 555-01XX,
London 020 7946 0XXX, Sydney 02 5550 XXXX, Paris 01 99 00 XX XX. Every
number is valid E.164 by libphonenumber, so the app's validation treats
them like real ones. A number that was ordered or pre-owned leaves the
inventory for good; releasing it does not put it back.

Choices the docs leave open: ``filter[limit]`` defaults to 50; an order
naming a number that is not available is refused whole (422) instead of
creating a partly failed order; the order list (``GET /number_orders``)
filters on ``customer_reference`` and ``status`` only; ``filter[phone_number][...]`` patterns match
the national number (the part after the NDC when ``national_destination_code``
is also given, the full E.164 string when the pattern starts with "+").
"""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from typing import TYPE_CHECKING

import phonenumbers

from . import errors
from .responses import paginate
from .state import InventoryNumber, NumberOrder, PhoneNumber, iso, new_uuid, utcnow

if TYPE_CHECKING:
    from .engine import ApiRequest, Engine

INVENTORY_SEED = 20_240_601
DEFAULT_LIMIT = 50

# (ISO country, calling code, NDC, locality, state/province, rate center, type,
#  subscriber prefix, subscriber digits to fill, how many, monthly, upfront, currency)
_AREAS = [
    (
        "US",
        "1",
        "312",
        "Chicago",
        "IL",
        "CHICAGO ZONE 01",
        "local",
        "55501",
        2,
        12,
        "1.00",
        "1.00",
        "USD",
    ),
    (
        "US",
        "1",
        "212",
        "New York",
        "NY",
        "NWYRCYZN01",
        "local",
        "55501",
        2,
        12,
        "1.00",
        "1.00",
        "USD",
    ),
    (
        "US",
        "1",
        "415",
        "San Francisco",
        "CA",
        "SNFC CNTRL",
        "local",
        "55501",
        2,
        12,
        "1.00",
        "1.00",
        "USD",
    ),
    ("US", "1", "512", "Austin", "TX", "AUSTIN", "local", "55501", 2, 12, "1.00", "1.00", "USD"),
    ("US", "1", "206", "Seattle", "WA", "SEATTLE", "local", "55501", 2, 12, "1.00", "1.00", "USD"),
    ("US", "1", "305", "Miami", "FL", "MIAMI", "local", "55501", 2, 12, "1.00", "1.00", "USD"),
    ("US", "1", "617", "Boston", "MA", "BOSTON", "local", "55501", 2, 12, "1.00", "1.00", "USD"),
    ("US", "1", "303", "Denver", "CO", "DENVER", "local", "55501", 2, 12, "1.00", "1.00", "USD"),
    ("US", "1", "800", None, None, None, "toll_free", "55501", 2, 8, "2.00", "1.00", "USD"),
    ("US", "1", "888", None, None, None, "toll_free", "55501", 2, 8, "2.00", "1.00", "USD"),
    ("CA", "1", "416", "Toronto", "ON", "TORONTO", "local", "55501", 2, 8, "1.00", "1.00", "USD"),
    (
        "CA",
        "1",
        "604",
        "Vancouver",
        "BC",
        "VANCOUVER",
        "local",
        "55501",
        2,
        8,
        "1.00",
        "1.00",
        "USD",
    ),
    ("GB", "44", "20", "London", "England", None, "local", "79460", 3, 8, "1.50", "1.50", "USD"),
    ("AU", "61", "2", "Sydney", "NSW", None, "local", "5550", 4, 8, "3.00", "3.00", "USD"),
    ("FR", "33", "1", "Paris", "Ile-de-France", None, "local", "9900", 4, 8, "1.50", "1.50", "USD"),
]

_FIRST = [
    "MARIA",
    "JAMES",
    "LINDA",
    "ROBERT",
    "AISHA",
    "WEI",
    "SOFIA",
    "OMAR",
    "ELENA",
    "DAVID",
    "PRIYA",
    "LUCAS",
]
_LAST = [
    "GARCIA",
    "SMITH",
    "JOHNSON",
    "NGUYEN",
    "PATEL",
    "KIM",
    "MULLER",
    "ROSSI",
    "OKAFOR",
    "LOPEZ",
    "COHEN",
    "BROWN",
]
_CARRIERS = ["SANDBOX TELECOM", "EXAMPLE WIRELESS", "FICTION CABLE CO"]


def build_inventory() -> dict[str, InventoryNumber]:
    rng = random.Random(INVENTORY_SEED)
    inventory = {}
    for (
        country,
        code,
        ndc,
        locality,
        admin,
        rate_center,
        kind,
        prefix,
        fill,
        count,
        monthly,
        upfront,
        currency,
    ) in _AREAS:
        for suffix in sorted(rng.sample(range(10**fill), count)):
            subscriber = f"{prefix}{suffix:0{fill}d}"
            number = InventoryNumber(
                phone_number=f"+{code}{ndc}{subscriber}",
                country_code=country,
                national_destination_code=ndc,
                subscriber=subscriber,
                national_number=f"{ndc}{subscriber}",
                locality=locality,
                administrative_area=admin,
                rate_center=rate_center,
                phone_number_type=kind,
                features=_features(rng, country, kind) + _more_features(f"+{code}{ndc}{subscriber}", kind),
                quickship=kind != "toll_free" or rng.random() < 0.5,
                monthly_cost=monthly,
                upfront_cost=upfront,
                currency=currency,
            )
            inventory[number.phone_number] = number
    return inventory


def _features(rng: random.Random, country: str, kind: str) -> list[str]:
    features = ["voice"]
    if rng.random() < (0.85 if country in ("US", "CA") else 0.5):
        features.append("sms")
        if kind == "local" and rng.random() < 0.6:
            features.append("mms")
    for name, share in (("fax", 0.3), ("emergency", 0.8), ("hd_voice", 0.5)):
        if kind == "local" and rng.random() < share:
            features.append(name)
    return features


def _more_features(phone_number: str, kind: str) -> list[str]:
    """Features Telnyx lists beyond the common ones (``international_sms``, ``local_calling``).

    Drawn from the number itself, not from the inventory's generator, so the
    numbers and features drawn before these were added stay as they were.
    """
    rng = random.Random(f"{INVENTORY_SEED}:{phone_number}")
    extra = []
    if rng.random() < 0.3:
        extra.append("international_sms")
    if kind == "local" and rng.random() < 0.4:
        extra.append("local_calling")
    return extra


class Numbers:
    def __init__(self, engine: Engine):
        self.e = engine
        self.clear()

    def clear(self) -> None:
        self.inventory = build_inventory()
        self.taken: set[str] = set()  # ordered or owned at some point: never offered again
        self.owned: dict[str, PhoneNumber] = {}
        self.orders: dict[str, NumberOrder] = {}
        self.caller_names: dict[str, str | None] = {}
        self.lookups: list[dict] = []

    def handlers(self) -> dict:
        return {
            "numbers.available": self.available,
            "number_order.create": self.order_create,
            "number_order.get": self.order_get,
            "number_order.list": self.order_list,
            "phone_number.list": self.phone_number_list,
            "phone_number.get": self.phone_number_get,
            "phone_number.patch": self.phone_number_patch,
            "phone_number.delete": self.phone_number_delete,
            "number_lookup": self.lookup,
        }

    # --- search -----------------------------------------------------------------------

    async def available(self, request: ApiRequest) -> tuple[int, dict]:
        wanted = request.deep.get("filter") or {}
        limit = int(wanted.get("limit") or DEFAULT_LIMIT)
        free = [n for n in self.inventory.values() if n.phone_number not in self.taken]
        exact = [n for n in free if self._matches(n, wanted, strict=True)]
        best_effort = []
        place_filters = (
            "locality",
            "national_destination_code",
            "rate_center",
            "administrative_area",
        )
        if (
            wanted.get("best_effort")
            and len(exact) < limit
            and any(wanted.get(k) for k in place_filters)
        ):
            best_effort = [
                n for n in free if n not in exact and self._matches(n, wanted, strict=False)
            ]
        rows = [self._available_json(n, False) for n in exact[:limit]]
        rows += [self._available_json(n, True) for n in best_effort[: limit - len(rows)]]
        meta = {
            "total_results": len(rows),
            "best_effort_results": len(rows) - min(len(exact), limit),
        }
        return 200, {"data": rows, "meta": meta, "metadata": meta}

    @staticmethod
    def _matches(number: InventoryNumber, wanted: dict, strict: bool) -> bool:
        def same(value, expected) -> bool:
            return expected in (None, "") or (value or "").casefold() == str(expected).casefold()

        if not same(number.country_code, wanted.get("country_code")):
            return False
        if not same(number.phone_number_type, wanted.get("phone_number_type")):
            return False
        if not set(wanted.get("features") or []) <= set(number.features):
            return False
        if wanted.get("quickship") and not number.quickship:
            return False
        if strict:
            for field, value in (
                ("national_destination_code", number.national_destination_code),
                ("locality", number.locality),
                ("administrative_area", number.administrative_area),
                ("rate_center", number.rate_center),
            ):
                if not same(value, wanted.get(field)):
                    return False
            pattern = wanted.get("phone_number") or {}
            if isinstance(pattern, dict) and not _pattern_ok(
                number, pattern, bool(wanted.get("national_destination_code"))
            ):
                return False
        return True

    @staticmethod
    def _available_json(number: InventoryNumber, best_effort: bool) -> dict:
        regions = [{"region_type": "country_code", "region_name": number.country_code}]
        if number.rate_center:
            regions.append({"region_type": "rate_center", "region_name": number.rate_center})
        if number.administrative_area:
            regions.append({"region_type": "state", "region_name": number.administrative_area})
        if number.locality:
            regions.append({"region_type": "location", "region_name": number.locality})
        return {
            "record_type": "available_phone_number",
            "phone_number": number.phone_number,
            "vanity_format": "",
            "best_effort": best_effort,
            "quickship": number.quickship,
            "reservable": True,
            "region_information": regions,
            "cost_information": {
                "currency": number.currency,
                "monthly_cost": number.monthly_cost,
                "upfront_cost": number.upfront_cost,
            },
            "features": [{"name": name} for name in number.features],
        }

    # --- orders -----------------------------------------------------------------------

    async def order_create(self, request: ApiRequest) -> tuple[int, dict]:
        body = request.body
        wanted = [item["phone_number"] for item in body.get("phone_numbers") or []]
        if not wanted:
            raise errors.invalid_parameter(
                "phone_numbers must name at least one number", pointer="/phone_numbers"
            )
        unavailable = [n for n in wanted if n not in self.inventory or n in self.taken]
        if unavailable:
            raise errors.invalid_parameter(
                f"These numbers are not available: {', '.join(unavailable)}",
                pointer="/phone_numbers",
            )
        self.taken.update(wanted)  # reserved now, so a second search does not offer them
        order = NumberOrder(
            id=new_uuid(),
            connection_id=body.get("connection_id"),
            customer_reference=body.get("customer_reference"),
            messaging_profile_id=body.get("messaging_profile_id"),
            billing_group_id=body.get("billing_group_id"),
            numbers=[{"id": new_uuid(), "phone_number": n, "status": "pending"} for n in wanted],
        )
        self.orders[order.id] = order
        self.e.spawn(self._complete(order))
        return 200, {"data": self._order_json(order)}

    async def _complete(self, order: NumberOrder) -> None:
        await self.e.sleep(self.e.config.number_order_delay_ms)
        for item in order.numbers:
            inventory = self.inventory[item["phone_number"]]
            self.own(
                PhoneNumber(
                    id=_numeric_id(),
                    phone_number=inventory.phone_number,
                    country_iso_alpha2=inventory.country_code,
                    phone_number_type=inventory.phone_number_type,
                    connection_id=order.connection_id,
                    customer_reference=order.customer_reference,
                    billing_group_id=order.billing_group_id,
                )
            )
            item["status"] = "success"
        order.status = "success"
        order.updated_at = utcnow()

    async def order_get(self, request: ApiRequest) -> tuple[int, dict]:
        order = self.orders.get(request.path_params["number_order_id"])
        if order is None:
            raise errors.not_found("Number order not found")
        return 200, {"data": self._order_json(order)}

    async def order_list(self, request: ApiRequest) -> tuple[int, dict]:
        """Newest first; ``filter[customer_reference]`` and ``filter[status]`` match exactly."""
        wanted = request.deep.get("filter") or {}
        rows = [
            o
            for o in self.orders.values()
            if all(
                not wanted.get(name) or getattr(o, name) == wanted[name]
                for name in ("customer_reference", "status")
            )
        ]
        rows.sort(key=lambda o: o.created_at, reverse=True)
        return 200, paginate(
            [self._order_json(o) for o in rows], request.deep.get("page") or {}
        )

    def _order_json(self, order: NumberOrder) -> dict:
        numbers = []
        for item in order.numbers:
            inventory = self.inventory[item["phone_number"]]
            numbers.append(
                {
                    "record_type": "number_order_phone_number",
                    "id": item["id"],
                    "phone_number": item["phone_number"],
                    "status": item["status"],
                    "phone_number_type": inventory.phone_number_type,
                    "country_code": inventory.country_code,
                    "country_iso_alpha2": inventory.country_code,
                    "regulatory_requirements": [],
                    "requirements_met": True,
                    "requirements_status": "approved",
                }
            )
        data = {
            "record_type": "number_order",
            "id": order.id,
            "status": order.status,
            "phone_numbers": numbers,
            "phone_numbers_count": len(numbers),
            "requirements_met": True,
            "sub_number_orders_ids": [],
            "created_at": iso(order.created_at),
            "updated_at": iso(order.updated_at),
        }
        for field in (
            "connection_id",
            "customer_reference",
            "messaging_profile_id",
            "billing_group_id",
        ):
            if getattr(order, field):
                data[field] = getattr(order, field)
        return data

    # --- owned numbers ------------------------------------------------------------------

    def own(self, number: PhoneNumber) -> PhoneNumber:
        self.taken.add(number.phone_number)
        self.owned[number.id] = number
        return number

    def owned_by_number(self, phone_number: str) -> PhoneNumber | None:
        return next((n for n in self.owned.values() if n.phone_number == phone_number), None)

    def pre_own(self, items: list) -> list[PhoneNumber]:
        """Control API: numbers the account already has (e.g. the demo's).
        Adds or updates by phone number; others are kept."""
        result = []
        for item in items:
            item = {"phone_number": item} if isinstance(item, str) else dict(item)
            e164 = item["phone_number"]
            try:
                parsed = phonenumbers.parse(e164)
            except phonenumbers.NumberParseException as exc:
                raise ValueError(f"{e164!r} is not a phone number: {exc}") from None
            # "Possible", not "valid": demos like fictional ranges (+1 555 ...)
            # that libphonenumber rejects, and the sandbox has no reason to.
            if not e164.startswith("+") or not phonenumbers.is_possible_number(parsed):
                raise ValueError(f"{e164!r} is not an E.164 number")
            number = self.owned_by_number(e164) or self.own(
                PhoneNumber(
                    id=_numeric_id(),
                    phone_number=e164,
                    country_iso_alpha2=phonenumbers.region_code_for_number(parsed) or "US",
                    phone_number_type=_number_type(parsed, self.inventory.get(e164)),
                )
            )
            for field in (
                "connection_id",
                "customer_reference",
                "tags",
                "external_pin",
                "billing_group_id",
            ):
                if field in item:
                    setattr(number, field, item[field])
            result.append(number)
        return result

    async def phone_number_list(self, request: ApiRequest) -> tuple[int, dict]:
        wanted = request.deep.get("filter") or {}
        rows = [n for n in self.owned.values() if _owned_matches(n, wanted)]
        sort = (request.query_values("sort") or [None])[0]
        if sort == "phone_number":
            rows.sort(key=lambda n: n.phone_number)
        elif sort == "purchased_at":
            rows.sort(key=lambda n: n.purchased_at)
        else:  # the spec: by created_at, newest first
            rows.sort(key=lambda n: n.created_at, reverse=True)
        return 200, paginate(
            [self.phone_number_json(n) for n in rows], request.deep.get("page") or {}
        )

    def _owned(self, number_id: str) -> PhoneNumber:
        number = self.owned.get(number_id) or self.owned_by_number(number_id)
        if number is None:
            raise errors.not_found("Phone number not found")
        return number

    async def phone_number_get(self, request: ApiRequest) -> tuple[int, dict]:
        return 200, {"data": self.phone_number_json(self._owned(request.path_params["id"]))}

    async def phone_number_patch(self, request: ApiRequest) -> tuple[int, dict]:
        number = self._owned(request.path_params["id"])
        for field in (
            "connection_id",
            "customer_reference",
            "billing_group_id",
            "external_pin",
            "hd_voice_enabled",
        ):
            if field in request.body:
                setattr(number, field, request.body[field])
        if "tags" in request.body:
            number.tags = list(request.body["tags"])
        number.updated_at = utcnow()
        return 200, {"data": self.phone_number_json(number)}

    async def phone_number_delete(self, request: ApiRequest) -> tuple[int, dict]:
        number = self._owned(request.path_params["id"])
        del self.owned[number.id]
        number.status = "deleted"
        number.updated_at = utcnow()
        data = {k: v for k, v in self.phone_number_json(number).items() if v is not None}
        return 200, {"data": data}

    @staticmethod
    def phone_number_json(number: PhoneNumber) -> dict:
        return {
            "record_type": "phone_number",
            "id": number.id,
            "phone_number": number.phone_number,
            "status": number.status,
            "tags": list(number.tags),
            "external_pin": number.external_pin,
            "connection_id": number.connection_id,
            "connection_name": None,
            "customer_reference": number.customer_reference,
            "billing_group_id": number.billing_group_id,
            "messaging_profile_id": None,
            "messaging_profile_name": None,
            "emergency_enabled": False,
            "emergency_address_id": None,
            "emergency_status": "disabled",
            "call_forwarding_enabled": True,
            "cnam_listing_enabled": False,
            "caller_id_name_enabled": False,
            "call_recording_enabled": False,
            "t38_fax_gateway_enabled": False,
            "hd_voice_enabled": number.hd_voice_enabled,
            "inbound_call_screening": "disabled",
            "deletion_lock_enabled": False,
            "phone_number_type": number.phone_number_type,
            "country_iso_alpha2": number.country_iso_alpha2,
            "source_type": number.source_type,
            "created_at": iso(number.created_at),
            "updated_at": iso(number.updated_at),
            "purchased_at": iso(number.purchased_at),
            "activated_at": iso(number.purchased_at),
        }

    # --- lookup -------------------------------------------------------------------------

    async def lookup(self, request: ApiRequest) -> tuple[int, dict]:
        raw = request.path_params["phone_number"]
        try:
            parsed = phonenumbers.parse(raw if raw.startswith("+") else f"+{raw}")
            if not phonenumbers.is_possible_number(parsed):
                raise phonenumbers.NumberParseException(0, "not a possible number")
        except phonenumbers.NumberParseException:
            raise errors.ApiError(
                422,
                "10016",
                "Phone number must be in +E164 format",
                f"{raw!r} is not a valid phone number.",
                pointer="/phone_number",
            ) from None
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        # The spec allows one `type`; we honour repeats (type=carrier&type=caller-name).
        types = request.query_values("type")
        data = {
            "record_type": "number_lookup",
            "phone_number": e164,
            "country_code": phonenumbers.region_code_for_number(parsed) or "",
            "national_format": phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.NATIONAL
            ),
            "fraud": None,
            "portability": {"ported_status": "N", "line_type": _carrier_type(parsed)},
        }
        name = None
        if "caller-name" in types:
            name = self.caller_names[e164] if e164 in self.caller_names else _fake_name(e164)
            if name is not None:  # a configured None means "no CNAM on record"
                data["caller_name"] = {"caller_name": name}
        if "carrier" in types or not types:
            data["carrier"] = {
                "name": _pick(_CARRIERS, e164),
                "normalized_carrier": _pick(_CARRIERS, e164),
                "type": _carrier_type(parsed),
                "mobile_country_code": "",
                "mobile_network_code": "",
                "error_code": None,
            }
        self.lookups.append(
            {"phone_number": e164, "types": types, "caller_name": name, "at": time.time()}
        )
        return 200, {"data": data}


def _pattern_ok(number: InventoryNumber, pattern: dict, after_ndc: bool) -> bool:
    for kind, raw in pattern.items():
        raw = str(raw)
        if raw.startswith("+"):
            subject, needle = number.phone_number, raw
        else:
            subject = number.subscriber if after_ndc else number.national_number
            needle = "".join(ch for ch in raw if ch.isdigit())
        ok = {
            "starts_with": subject.startswith(needle),
            "ends_with": subject.endswith(needle),
            "contains": needle in subject,
        }.get(kind, True)
        if not ok:
            return False
    return True


def _owned_matches(number: PhoneNumber, wanted: dict) -> bool:
    digits = "".join(ch for ch in str(wanted.get("phone_number") or "") if ch.isdigit())
    if wanted.get("phone_number") and digits not in number.phone_number:
        return False
    if wanted.get("tag") and wanted["tag"] not in number.tags:
        return False
    for field in ("connection_id", "customer_reference", "status", "billing_group_id"):
        if wanted.get(field) and getattr(number, field) != wanted[field]:
            return False
    countries = wanted.get("country_iso_alpha2")
    if countries and number.country_iso_alpha2 not in (
        [countries] if isinstance(countries, str) else countries
    ):
        return False
    number_type = (
        (wanted.get("number_type") or {}).get("eq")
        if isinstance(wanted.get("number_type"), dict)
        else None
    )
    return not number_type or number.phone_number_type == number_type


def _number_type(parsed, inventory: InventoryNumber | None) -> str:
    if inventory is not None:
        return inventory.phone_number_type
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return "toll_free"
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return "mobile"
    return "local"


def _carrier_type(parsed) -> str:
    kind = phonenumbers.number_type(parsed)
    return {
        phonenumbers.PhoneNumberType.MOBILE: "mobile",
        phonenumbers.PhoneNumberType.FIXED_LINE: "fixed line",
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed line or mobile",
        phonenumbers.PhoneNumberType.TOLL_FREE: "toll free",
        phonenumbers.PhoneNumberType.VOIP: "voip",
    }.get(kind, "unknown")


def _pick(options: list[str], key: str) -> str:
    return options[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(options)]


def _fake_name(e164: str) -> str:
    """A stable CNAM-style name (LAST,FIRST, at most 15 characters)."""
    digest = int(hashlib.sha256(e164.encode()).hexdigest(), 16)
    first, last = _FIRST[digest % len(_FIRST)], _LAST[(digest // len(_FIRST)) % len(_LAST)]
    return f"{last},{first}"[:15]


def _numeric_id() -> str:
    # Telnyx phone number ids are long decimal strings.
    return str(10**18 + secrets.randbelow(9 * 10**18))
