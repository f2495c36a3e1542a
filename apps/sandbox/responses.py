"""Answer shapes shared by the API handlers."""

from __future__ import annotations


def ok(extra: dict | None = None) -> tuple[int, dict]:
    return 200, {"data": {"result": "ok", **(extra or {})}}


def paginate(rows: list, page: dict) -> dict:
    number = int(page.get("number", 1))
    size = int(page.get("size", 20))
    total = len(rows)
    start = (number - 1) * size
    return {
        "data": rows[start : start + size],
        "meta": {
            "page_number": number,
            "page_size": size,
            "total_results": total,
            "total_pages": max(1, -(-total // size)),
        },
    }
