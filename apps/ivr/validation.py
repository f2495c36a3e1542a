"""What makes a flow safe to run, checked before it is saved.

The engine trusts the graph: every option, branch and fallback names a node
that exists, every menu says where a caller goes after the retries, and every
prompt is one Telnyx can play. Each problem names the node it is about, so the
builder can show it next to that node and the API message names it too.

A flow document is what the API exchanges (see ``apps.ivr.apis``); a node is
flat, with the fields of its kind::

    {"key": "main", "kind": "menu", "name": "Main menu", "prompt": {...},
     "options": [{"digits": "1", "speech": "sales", "next": "sales"}],
     "fallback": "operator", "timeout_secs": 5, "max_tries": 3, ...}
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from apps.ivr.hours import schedule_problems
from apps.ivr.models import IvrNode
from apps.ivr.prompts import _VOICE, LANGUAGES, language_problem, prompt_problems, prompt_voice

Kind = IvrNode.Kind

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# '#' ends a multi-digit entry (Telnyx's terminating digit), so options use 0-9 and *.
DIGITS = re.compile(r"^[0-9*]{1,4}$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SIP_URI = re.compile(r"^sips?:[^@\s]+@[^\s@]+$")
FINISH_KEYS = set("0123456789*#")

# Per kind: the settings stored with the node, and their defaults.
SETTINGS = {
    Kind.MENU: {"invalid_prompt": None, "timeout_prompt": None, "timeout_secs": 5, "max_tries": 3,
                "speech": False, "fallback": ""},
    Kind.MESSAGE: {"next": ""},
    # Higher is served first: a "VIP" option may send callers ahead of the line.
    Kind.QUEUE: {"priority": 0},
    Kind.FORWARD: {"to": "", "timeout_secs": 30, "no_answer": ""},
    Kind.VOICEMAIL: {"max_length_secs": 120, "finish_key": "#"},
    Kind.HANGUP: {},
    Kind.HOURS: {"hours": None, "open": "", "closed": ""},
}
# Per kind: settings that name another node, and whether they must.
LINKS = {
    Kind.MENU: {"fallback": True},
    Kind.MESSAGE: {"next": False},
    Kind.FORWARD: {"no_answer": False},
    Kind.HOURS: {"open": True, "closed": True},
}
LINK_LABELS = {
    "fallback": "its fallback (what happens after the retries)",
    "next": "what comes next",
    "no_answer": "where to go when nobody answers",
    "open": "the open branch",
    "closed": "the closed branch",
}
RANGES = {
    (Kind.MENU, "timeout_secs"): (1, 60),
    (Kind.MENU, "max_tries"): (1, 10),
    (Kind.FORWARD, "timeout_secs"): (5, 120),
    (Kind.VOICEMAIL, "max_length_secs"): (5, 600),
    (Kind.QUEUE, "priority"): (0, 100),
}
PROMPT_REQUIRED = {Kind.MENU, Kind.MESSAGE}


@dataclass(frozen=True)
class Problem:
    node: str  # the node's key; "" for the flow itself
    field: str
    message: str
    node_name: str = ""

    def text(self) -> str:
        if not self.node:
            return f"Flow: {self.message}"
        named = f" ({self.node_name})" if self.node_name and self.node_name != self.node else ""
        return f"Node '{self.node}'{named}: {self.message}"

    def as_dict(self) -> dict:
        return {**asdict(self), "text": self.text()}


def flow_problems(
    *, entry: str, fallback: str, max_steps: int, voice: str, language: str, nodes: list[dict], queue_ids: set[int]
) -> list[Problem]:
    """Everything that keeps this flow from being saved (empty: it may be saved)."""
    problems = _flow_level(entry, fallback, max_steps, voice, language, nodes)
    keys = {n.get("key") for n in nodes}
    for node in nodes:
        node_problems = _node_problems(node, keys, queue_ids)
        if not node_problems:
            node_problems = _language_checks(node, voice, language)
        problems += [
            Problem(node.get("key") or "", field, message, node.get("name") or "")
            for field, message in node_problems
        ]
    return problems


def _flow_level(entry, fallback, max_steps, voice, language, nodes) -> list[Problem]:
    problems = []
    keys = [n.get("key") for n in nodes]
    if not nodes:
        problems.append(Problem("", "nodes", "add at least one node"))
    if not entry:
        problems.append(Problem("", "entry", "choose the node calls start at"))
    elif entry not in keys:
        problems.append(Problem("", "entry", f"the start node '{entry}' is not a node of this flow"))
    if fallback and fallback not in keys:
        problems.append(Problem("", "fallback", f"the step-limit fallback '{fallback}' is not a node of this flow"))
    if not 5 <= int(max_steps or 0) <= 500:
        problems.append(Problem("", "max_steps", "the step limit must be between 5 and 500"))
    if voice and not _VOICE.match(voice):
        problems.append(Problem("", "voice", f"{voice!r} is not a Telnyx voice"))
    if language and language not in LANGUAGES:
        problems.append(Problem("", "language", f"{language!r} is not a language Telnyx speaks"))
    elif not (voice and not _VOICE.match(voice)) and (problem := language_problem(voice, language)):
        problems.append(Problem("", "language", problem))
    for key in sorted({k for k in keys if keys.count(k) > 1 and k}):
        problems.append(Problem(key, "key", f"two nodes are called '{key}': keys must be unique"))
    return problems


def _node_problems(node: dict, keys: set, queue_ids: set[int]) -> list[tuple[str, str]]:
    key, kind = node.get("key") or "", node.get("kind")
    if not KEY.match(key):
        return [("key", f"the key {key!r} must be 1-40 lowercase letters, digits, '-' or '_'")]
    if kind not in SETTINGS:
        return [("kind", f"unknown kind {kind!r}")]
    if wrong_types := _type_checks(node, kind):
        return wrong_types
    problems = _prompt_checks(node, kind)
    problems += _link_checks(node, kind, keys)
    problems += _range_checks(node, kind)
    checker = _KIND_CHECKS.get(kind)
    if checker:
        problems += checker(node, keys, queue_ids)
    return problems


def _type_checks(node: dict, kind: str) -> list[tuple[str, str]]:
    """Settings of the wrong type (the API's serializers rule these out; JSON typed into the Django admin does not)."""
    problems = []
    for field, default in SETTINGS[kind].items():
        value = node.get(field, default)
        if isinstance(default, bool):
            ok, expected = isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            ok, expected = isinstance(value, int) and not isinstance(value, bool), "a whole number"
        elif isinstance(default, str):
            ok, expected = isinstance(value, str), "text"
        else:
            ok, expected = value is None or isinstance(value, dict), "an object"
        if not ok:
            problems.append((field, f"{field.replace('_', ' ')} must be {expected}, not {value!r}"))
    return problems


def _prompt_checks(node: dict, kind: str) -> list[tuple[str, str]]:
    prompt = node.get("prompt")
    if not prompt:
        return [("prompt", "add the prompt callers hear")] if kind in PROMPT_REQUIRED else []
    problems = prompt_problems(prompt)
    for extra in ("invalid_prompt", "timeout_prompt"):
        if kind == Kind.MENU and node.get(extra):
            problems += prompt_problems(node[extra], extra)
    return problems


def _language_checks(node: dict, flow_voice: str, flow_language: str) -> list[tuple[str, str]]:
    """A prompt's language its voice cannot speak (Telnyx would drop it and speak the voice's own).

    Only prompts that choose their own voice or language: a clash of the
    flow's own voice and language is the flow's problem, reported once.
    """
    flow_voice = flow_voice if _VOICE.match(flow_voice or "") else ""  # a bad one is reported by itself
    flow_language = flow_language if flow_language in LANGUAGES else ""
    problems = []
    for field in ("prompt", "invalid_prompt", "timeout_prompt"):
        prompt = node.get(field)
        if not isinstance(prompt, dict) or prompt.get("type") != "tts":
            continue
        if not (prompt.get("voice") or prompt.get("language")):
            continue
        voice, language = prompt_voice(prompt, voice=flow_voice, language=flow_language)
        if problem := language_problem(voice, language):
            problems.append((f"{field}.language" if prompt.get("language") else f"{field}.voice", problem))
    return problems


def _link_checks(node: dict, kind: str, keys: set) -> list[tuple[str, str]]:
    problems = []
    for field, required in LINKS.get(kind, {}).items():
        target = node.get(field) or ""
        if not target and required:
            problems.append((field, f"choose {LINK_LABELS[field]}"))
        elif target and target not in keys:
            problems.append((field, f"{LINK_LABELS[field]} points to '{target}', which is not a node of this flow"))
    return problems


def _range_checks(node: dict, kind: str) -> list[tuple[str, str]]:
    problems = []
    for (range_kind, field), (low, high) in RANGES.items():
        if range_kind != kind:
            continue
        value = node.get(field, SETTINGS[kind][field])
        if not isinstance(value, int) or not low <= value <= high:
            problems.append((field, f"{field.replace('_', ' ')} must be between {low} and {high}"))
    return problems


def _menu_checks(node: dict, keys: set, queue_ids: set[int]) -> list[tuple[str, str]]:
    options = node.get("options") or []
    if not options:
        return [("options", "a menu needs at least one option")]
    problems, seen = [], set()
    for index, option in enumerate(options):
        digits, target, label = option.get("digits") or "", option.get("next") or "", f"option {index + 1}"
        if not DIGITS.match(digits):
            problems.append((f"options.{index}.digits", f"{label}: keys {digits!r} must be 1-4 of 0-9 and *"))
        elif digits in seen:
            problems.append((f"options.{index}.digits", f"{label}: {digits} is already another option"))
        seen.add(digits)
        if not target:
            problems.append((f"options.{index}.next", f"{label} ({digits}) points nowhere: choose its next node"))
        elif target not in keys:
            problems.append(
                (f"options.{index}.next", f"{label} ({digits}) points to '{target}', which is not a node of this flow")
            )
    return problems


def _queue_checks(node: dict, keys: set, queue_ids: set[int]) -> list[tuple[str, str]]:
    queue = node.get("queue")
    if node.get("kind") == Kind.QUEUE and not queue:
        return [("queue", "choose the queue calls go to")]
    if queue and queue not in queue_ids:
        return [("queue", f"queue {queue} does not exist")]
    return []


def _forward_checks(node: dict, keys: set, queue_ids: set[int]) -> list[tuple[str, str]]:
    to = (node.get("to") or "").strip()
    if not (E164.match(to) or SIP_URI.match(to)):
        return [("to", "forward to a number in E.164 (+13125550100) or a SIP URI (sip:desk@example.com)")]
    return []


def _voicemail_checks(node: dict, keys: set, queue_ids: set[int]) -> list[tuple[str, str]]:
    problems = _queue_checks(node, keys, queue_ids)
    if (node.get("finish_key") or "#") not in FINISH_KEYS:
        problems.append(("finish_key", "the finish key must be one of 0-9, * or #"))
    return problems


def _hours_checks(node: dict, keys: set, queue_ids: set[int]) -> list[tuple[str, str]]:
    schedule = node.get("hours")
    if not isinstance(schedule, dict):
        return [("hours", "set the opening hours")]
    return schedule_problems(schedule)


_KIND_CHECKS = {
    Kind.MENU: _menu_checks,
    Kind.QUEUE: _queue_checks,
    Kind.FORWARD: _forward_checks,
    Kind.VOICEMAIL: _voicemail_checks,
    Kind.HOURS: _hours_checks,
}
