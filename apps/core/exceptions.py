"""One error type for services, rendered the same way by every API."""

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A service refused: the message is for the user, ``extra`` for the client."""

    def __init__(self, message: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    elif isinstance(exc, ApplicationError):
        exc = drf_exceptions.ValidationError({"message": exc.message, "extra": exc.extra})
    return exception_handler(exc, context)
