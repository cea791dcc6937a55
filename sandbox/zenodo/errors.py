"""Error replies in the shapes the real service uses (notes §1.8).

RDM today: ``{"status", "message", "errors": [{"field", "messages": [...]}]}``. The
"legacy-doc mode" (notes §5.1) answers in the documented legacy shape instead:
``{"status", "message", "errors": [{"field", "message"}]}``.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

VALIDATION_MESSAGE = "A validation error occurred."
LEGACY_VALIDATION_MESSAGE = "Validation error."
NOT_FOUND = "The persistent identifier does not exist."
PERMISSION_DENIED = "Permission denied."
# werkzeug's Unauthorized description, what invenio-oauth2server answers a bad token with.
UNAUTHORIZED = (
    "The server could not verify that you are authorized to access the URL requested. You "
    "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
    "understand how to supply the credentials required."
)


class ApiError(Exception):
    """A JSON error reply; ``errors`` maps a dotted field path to its messages."""

    def __init__(
        self, status: int, message: str, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}

    def response(self, *, legacy: bool = False) -> JsonResponse:
        body: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.errors:
            if legacy:
                body["errors"] = [
                    {"field": field, "message": " ".join(messages)}
                    for field, messages in self.errors.items()
                ]
                if self.message == VALIDATION_MESSAGE:
                    body["message"] = LEGACY_VALIDATION_MESSAGE
            else:
                body["errors"] = [
                    {"field": field, "messages": messages}
                    for field, messages in self.errors.items()
                ]
        return JsonResponse(body, status=self.status)


class ValidationFailed(ApiError):
    """400 "A validation error occurred." with per-field messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(400, VALIDATION_MESSAGE, errors)


def not_found(message: str = NOT_FOUND) -> ApiError:
    return ApiError(404, message)


def forbidden(message: str = PERMISSION_DENIED) -> ApiError:
    return ApiError(403, message)
