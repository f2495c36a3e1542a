"""Numbers: search, order, owned numbers, lookups."""

from __future__ import annotations

import phonenumbers


def search(api, **filters) -> dict:
    params = {f"filter[{k}]": v for k, v in filters.items()}
    response = api.get("/available_phone_numbers", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def order(api, *numbers: str, **extra) -> dict:
    body = {"phone_numbers": [{"phone_number": n} for n in numbers], **extra}
    response = api.post("/number_orders", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_search_by_area_code_finds_valid_local_numbers(control, api):
    found = search(api, country_code="US", national_destination_code="312", limit=5)

    assert 0 < len(found["data"]) <= 5 and found["meta"]["total_results"] == len(found["data"])
    for row in found["data"]:
        assert row["phone_number"].startswith("+1312")
        assert phonenumbers.is_valid_number(phonenumbers.parse(row["phone_number"]))
        assert {"region_type": "location", "region_name": "Chicago"} in row["region_information"]
        assert row["cost_information"]["currency"]


def test_search_filters_by_locality_state_and_features(control, api):
    rows = search(api, locality="Austin", administrative_area="TX")["data"]
    assert rows and all("Austin" in str(r["region_information"]) for r in rows)
    with_fax = api.get(
        "/available_phone_numbers",
        params=[("filter[features][]", "fax"), ("filter[features][]", "voice")],
    ).json()["data"]
    assert with_fax and all(
        {"fax", "voice"} <= {f["name"] for f in r["features"]} for r in with_fax
    )


def test_search_matches_number_patterns(control, api):
    rows = api.get(
        "/available_phone_numbers",
        params={
            "filter[national_destination_code]": "212",
            "filter[phone_number][starts_with]": "55501",
        },
    ).json()["data"]
    assert rows and all(r["phone_number"].startswith("+121255501") for r in rows)
    ends = rows[0]["phone_number"][-2:]
    matching = api.get(
        "/available_phone_numbers", params={"filter[phone_number][ends_with]": ends}
    ).json()["data"]
    assert all(r["phone_number"].endswith(ends) for r in matching)


def test_the_inventory_has_other_countries(control, api):
    for country in ("GB", "CA", "AU", "FR"):
        rows = search(api, country_code=country)["data"]
        assert rows and all(
            phonenumbers.region_code_for_number(phonenumbers.parse(r["phone_number"])) == country
            for r in rows
        )


def test_an_invalid_filter_is_refused_with_the_parameter_named(control, api):
    response = api.get("/available_phone_numbers", params={"filter[limit]": "many"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["parameter"] == "filter[limit]"


def test_an_order_completes_and_the_number_becomes_owned(control, api):
    number = search(api, national_destination_code="415", limit=1)["data"][0]["phone_number"]

    placed = order(api, number, connection_id="conn-1", customer_reference="demo")

    assert placed["status"] == "pending" and placed["phone_numbers"][0]["phone_number"] == number
    done = control.wait_for(
        lambda: (
            (o := api.get(f"/number_orders/{placed['id']}").json()["data"])["status"] == "success"
            and o
        )
    )
    assert done["phone_numbers"][0]["status"] == "success"
    owned = api.get("/phone_numbers", params={"filter[phone_number]": number[2:]}).json()["data"]
    assert [(n["phone_number"], n["connection_id"], n["status"]) for n in owned] == [
        (number, "conn-1", "active")
    ]
    assert number not in {
        r["phone_number"] for r in search(api, national_destination_code="415")["data"]
    }


def test_ordering_a_number_that_is_not_available_is_refused(control, api):
    number = search(api, national_destination_code="206", limit=1)["data"][0]["phone_number"]
    order(api, number)
    response = api.post("/number_orders", json={"phone_numbers": [{"phone_number": number}]})
    assert response.status_code == 422


def test_owned_numbers_page_patch_and_release(control, api):
    numbers = [
        r["phone_number"] for r in search(api, national_destination_code="305", limit=3)["data"]
    ]
    control.set_owned_numbers(numbers)

    page = api.get("/phone_numbers", params={"page[number]": 2, "page[size]": 2}).json()
    assert page["meta"] == {"page_number": 2, "page_size": 2, "total_results": 3, "total_pages": 2}
    assert len(page["data"]) == 1
    number_id = page["data"][0]["id"]
    patched = api.patch(
        f"/phone_numbers/{number_id}", json={"connection_id": "conn-2", "tags": ["sales"]}
    )
    assert patched.json()["data"]["connection_id"] == "conn-2" and patched.json()["data"][
        "tags"
    ] == ["sales"]
    released = page["data"][0]["phone_number"]
    assert api.delete(f"/phone_numbers/{number_id}").status_code == 200
    assert api.get(f"/phone_numbers/{number_id}").status_code == 404
    assert released not in {
        r["phone_number"] for r in search(api, national_destination_code="305")["data"]
    }


def test_an_inbound_call_to_an_owned_number_uses_its_connection(control):
    control.set_owned_numbers([{"phone_number": "+13125550100", "connection_id": "conn-main"}])
    call = control.place_call("+14155550111", "+13125550100")
    assert call["connection_id"] == "conn-main"


def test_lookup_answers_configured_or_stable_fake_names_and_logs_each_lookup(control, api):
    control.set_caller_names({"+13125550111": "GRACE HOPPER"})

    known = api.get("/number_lookup/+13125550111", params={"type": "caller-name"}).json()["data"]
    fake = api.get("/number_lookup/+13125550112", params={"type": "caller-name"}).json()["data"]
    again = api.get("/number_lookup/+13125550112", params={"type": "caller-name"}).json()["data"]
    carrier = api.get("/number_lookup/+13125550112", params={"type": "carrier"}).json()["data"]

    assert known["caller_name"]["caller_name"] == "GRACE HOPPER"
    assert fake["caller_name"] == again["caller_name"] and fake["caller_name"]["caller_name"]
    assert "carrier" in carrier and "caller_name" not in carrier
    assert [entry["phone_number"] for entry in control.lookups()] == [
        "+13125550111",
        "+13125550112",
        "+13125550112",
        "+13125550112",
    ]


def test_a_caller_name_given_with_an_inbound_call_is_what_lookup_returns(control, api):
    control.place_call("+13125550177", "+13125550100", caller_name="ALAN TURING")
    data = api.get("/number_lookup/+13125550177", params={"type": "caller-name"}).json()["data"]
    assert data["caller_name"]["caller_name"] == "ALAN TURING"


def test_orders_can_be_found_by_their_customer_reference(control, api):
    first, second = [
        r["phone_number"] for r in search(api, national_destination_code="617", limit=2)["data"]
    ]
    mine = order(api, first, customer_reference="contactcenter-abc")
    order(api, second, customer_reference="someone-else")

    found = api.get(
        "/number_orders", params={"filter[customer_reference]": "contactcenter-abc"}
    ).json()
    assert [o["id"] for o in found["data"]] == [mine["id"]]
    assert found["meta"]["total_results"] == 1
    assert found["data"][0]["phone_numbers"][0]["phone_number"] == first
    nothing = api.get("/number_orders", params={"filter[customer_reference]": "never-used"})
    assert nothing.json()["data"] == []
