"""Phone numbers in E.164, checked with libphonenumber on every write path.

Forms, the REST API, services and the import all call :func:`e164_normalize`,
so a number is refused with the same message wherever it is typed. Spaces,
dashes, dots and parentheses are tolerated and dropped; the leading ``+`` and
country code are not optional, because without them the number means
something different in every country.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError

EXAMPLE = "+13125550100"
_SEPARATORS = re.compile(r"[\s().\-/]")
_SIP_URI = re.compile(r"^sips?:[^@\s:;]+@[A-Za-z0-9.\-]+(:\d{1,5})?(;[^\s]*)?$")


def e164_normalize(value: str) -> str:
    """``value`` as E.164 (``+13125550100``); raises ``ValidationError`` with a message for people."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationError("Enter a phone number.", code="required")
    compact = _SEPARATORS.sub("", raw)
    if not compact.startswith("+"):
        raise ValidationError(
            f"{raw!r} is not in E.164 format: start with + and the country code, e.g. {EXAMPLE}.",
            code="not_e164",
        )
    if not compact[1:].isdigit():
        raise ValidationError(f"{raw!r} is not a phone number: only digits may follow the +.", code="not_e164")
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            f"{raw!r} does not start with a known country code (e.g. +1, +44).", code="unknown_country"
        ) from None
    if phonenumbers.region_code_for_country_code(parsed.country_code) in (None, "ZZ"):
        raise ValidationError(f"{raw!r} does not start with a known country code (e.g. +1, +44).",
                              code="unknown_country")
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            f"{raw!r} is not a valid phone number for country code +{parsed.country_code}.", code="invalid_number"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    """Model-field validator: the stored value must already be normalised E.164."""
    if e164_normalize(value) != value:
        raise ValidationError(f"Store the number as E.164, e.g. {EXAMPLE}.", code="not_normalised")


def destination_normalize(value: str) -> str:
    """Where a call may be forwarded: an E.164 number or a ``sip:`` URI."""
    raw = (value or "").strip()
    if raw.lower().startswith(("sip:", "sips:")):
        if not _SIP_URI.match(raw):
            raise ValidationError(f"{raw!r} is not a SIP URI like sip:alice@example.com.", code="invalid_sip")
        return raw
    return e164_normalize(raw)


def country_of(e164: str) -> str:
    """ISO 3166 alpha-2 country of a normalised number ('' if unknown)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


def looks_like_e164(value: str) -> bool:
    """A caller's number worth looking up: + and 8 to 15 digits (callers are not validated)."""
    return bool(re.fullmatch(r"\+\d{8,15}", value or ""))


def presented_caller_id(caller: str, line: str) -> str:
    """The caller ID of a leg we dial on a caller's behalf: their own number, so whoever answers
    sees who calls; the line they called when theirs cannot be shown (withheld, "anonymous",
    a SIP URI: Telnyx wants ``from`` in E.164)."""
    return caller if looks_like_e164(caller) else line
