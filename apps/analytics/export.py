"""The analytics as CSV: the same rows and the same formatted figures as the page."""

import csv
import io

from apps.analytics.selectors import Figures, Summary

COLUMNS = [
    "breakdown", "key", "label", "calls", "answered", "answer_rate_percent", "avg_talk_seconds",
    "talk_seconds", "first_time_callers", "no_answer", "busy", "failed", "abandoned", "self_service",
]


def rate_text(figures: Figures) -> str:
    return "" if figures.answer_rate is None else f"{figures.answer_rate:.1f}"


def avg_talk_text(figures: Figures) -> str:
    return "" if figures.avg_talk_seconds is None else f"{figures.avg_talk_seconds:.1f}"


def summary_rows(summary: Summary) -> list[dict]:
    """Every figure of the page, one row per table row: totals, sources, numbers, days."""
    sections = [("total", [("", "All calls", summary.totals)])]
    sections += [
        ("source", [(r.key, r.label, r.figures) for r in summary.by_source]),
        ("number", [(r.key, r.label, r.figures) for r in summary.by_number]),
        ("day", [(r.key, r.label, r.figures) for r in summary.by_day]),
    ]
    rows = []
    for breakdown, items in sections:
        for key, label, f in items:
            rows.append({
                "breakdown": breakdown, "key": key, "label": label, "calls": f.calls, "answered": f.answered,
                "answer_rate_percent": rate_text(f), "avg_talk_seconds": avg_talk_text(f),
                "talk_seconds": f.talk_seconds, "first_time_callers": f.first_time_callers,
                "no_answer": f.no_answer, "busy": f.busy, "failed": f.failed, "abandoned": f.abandoned,
                "self_service": f.self_service,
            })
    return rows


def summary_csv(summary: Summary) -> str:
    out = io.StringIO()
    # CRLF (RFC 4180): Python's writer quotes a field holding any character of
    # the line terminator, so with "\n" alone a source containing "\r" was
    # written bare and split its row in two when read back.
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in summary_rows(summary):
        row["label"], row["key"] = _cell(row["label"]), _cell(row["key"])
        writer.writerow(row)
    return out.getvalue()


def _cell(value) -> str:
    """A spreadsheet would run a source named "=HYPERLINK(...)": quote formula-like text.

    A leading tab or carriage return counts too (spreadsheets strip it and
    read what follows as a formula). Numbers such as +13125550100 stay as
    they are.
    """
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not text[1:].split(" ")[0].isdigit()):
        return "'" + text
    return text
