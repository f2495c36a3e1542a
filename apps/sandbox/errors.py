"""Telnyx-shaped API errors.

Every error body is ``{"errors": [{"code", "title", "detail", "source"?}]}``.
Codes and titles are the ones Telnyx's published spec shows in its error
examples, so the app can key on them exactly as it would in production
(most importantly 90018, "call has already ended", which the app reads as
"this call is gone").
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answer of the emulated Telnyx API."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter

    def body(self) -> dict:
        error: dict = {"code": self.code, "title": self.title, "detail": self.detail}
        source = {}
        if self.pointer is not None:
            source["pointer"] = self.pointer
        if self.parameter is not None:
            source["parameter"] = self.parameter
        if source:
            error["source"] = source
        return {"errors": [error]}


def invalid_parameter(
    detail: str, *, pointer: str | None = None, parameter: str | None = None
) -> ApiError:
    # The one shape for "the request does not match the spec": the lead's
    # contract with the app, and what tests assert on.
    return ApiError(422, "10015", "Invalid parameter", detail, pointer=pointer, parameter=parameter)


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "10009",
        "Authentication failed",
        "The required authentication headers were either invalid or not included in the request.",
    )


def not_found(detail: str = "Resource not found") -> ApiError:
    return ApiError(404, "10007", "Resource not found", detail)


def internal_error() -> ApiError:
    return ApiError(500, "10007", "Internal server error", "Internal server error")


def call_ended() -> ApiError:
    return ApiError(
        422,
        "90018",
        "Call has already ended",
        "This call is no longer active and can't receive commands.",
    )


def call_not_answered() -> ApiError:
    return ApiError(
        422,
        "90034",
        "Call not answered yet",
        "This call can't receive this command because it has not been answered yet.",
    )


def invalid_call_control_id(pointer: str = "/call_control_id") -> ApiError:
    return ApiError(
        422,
        "90015",
        "Invalid Call Control ID",
        "The call_control_id provided was not valid.",
        pointer=pointer,
    )


def already_in_queue() -> ApiError:
    return ApiError(
        422, "90038", "Call already in queue", "Call can't be added to a queue it's already in."
    )


def queue_full(name: str) -> ApiError:
    return ApiError(
        422, "90036", "Queue full", f"The '{name}' queue is full and can't accept more calls."
    )


def conference_not_found() -> ApiError:
    return ApiError(404, "90058", "Invalid conference_id", "The conference does not exist.")


def conference_ended() -> ApiError:
    return ApiError(
        422,
        "90019",
        "Conference has already ended",
        "This conference is no longer active and can't receive commands.",
    )


def conference_name_conflict() -> ApiError:
    return ApiError(
        422,
        "90033",
        "Unable to execute command",
        "Conference with given name already exists and it's active.",
    )


def max_participants(limit: int) -> ApiError:
    return ApiError(
        422,
        "90032",
        "Maximum number of participants reached",
        f"The maximum allowed value of `max_participants` has been reached at {limit}.",
    )


def unable(detail: str) -> ApiError:
    """A command that conflicts with the call's state in a way the spec
    examples have no specific code for; Telnyx's generic "Unable to execute
    command" title is the closest published one."""
    return ApiError(422, "90033", "Unable to execute command", detail)


def recording_not_found() -> ApiError:
    return ApiError(
        404,
        "10005",
        "Recording not found",
        "The recording could not be found. Please check the recording_id and try again.",
        pointer="/recording_id",
    )


def bad_json(detail: str) -> ApiError:
    return ApiError(400, "10015", "Bad Request", detail)
