"""Gateway errors: every failure a user can see carries a stable code and, where known, a location.

    GatewayError                  code, message, segment, position, element
    ├─ ConfigError                bad settings or unknown names
    ├─ MappingError
    │  ├─ ParseError              syntax or envelope: the document cannot be read as sent
    │  ├─ ValidationError         readable, but breaks a business rule (bad GTIN, missing order number)
    │  ├─ UnknownFormat           the bytes are no format ordergate knows
    │  └─ UnsupportedDocument     a known standard, but not a message type ordergate takes in
    ├─ PartnerError
    │  └─ UnknownPartner          the sender matches no configured partner
    ├─ DuplicateDocument          same interchange or same bytes received before
    ├─ RoutingError
    ├─ TransportError             retryable: a connector could not reach its peer
    │  ├─ ConnectorUnavailable    retryable: refused, timed out, reset, server busy
    │  └─ ConnectorRejected       permanent until someone acts: credentials, host key, permission, bad name
    └─ StorageError

`retryable` tells a stage whether trying again later can help (issue 4 reads it).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning"]


class Issue(BaseModel):
    """One problem found in a document, in the shape users see in JSON, tables and failure records."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    segment: str | None = None
    position: int | None = None
    element: str | None = None
    severity: Severity = "error"

    def describe(self) -> str:
        where = []
        if self.segment:
            where.append(f"segment {self.segment}")
        if self.position is not None:
            where.append(f"position {self.position}")
        if self.element:
            where.append(f"element {self.element}")
        return f"{self.code}: {self.message}" + (f" ({', '.join(where)})" if where else "")


class GatewayError(Exception):
    code: ClassVar[str] = "GATEWAY_ERROR"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        segment: str | None = None,
        position: int | None = None,
        element: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # instance-specific code refines the class default
        self.segment = segment
        self.position = position
        self.element = element

    def to_issue(self, severity: Severity = "error") -> Issue:
        return Issue(
            code=self.code,
            message=self.message,
            segment=self.segment,
            position=self.position,
            element=self.element,
            severity=severity,
        )

    def __str__(self) -> str:
        return self.to_issue().describe()


class ConfigError(GatewayError):
    code = "CONFIG_ERROR"


class MappingError(GatewayError):
    code = "MAPPING_ERROR"


class ParseError(MappingError):
    code = "PARSE_ERROR"


class ValidationError(MappingError):
    code = "VALIDATION_ERROR"


class UnknownFormat(MappingError):
    code = "UNKNOWN_FORMAT"


class UnsupportedDocument(MappingError):
    code = "UNSUPPORTED_DOCUMENT"


class PartnerError(GatewayError):
    code = "PARTNER_ERROR"


class UnknownPartner(PartnerError):
    code = "UNKNOWN_PARTNER"


class DuplicateDocument(GatewayError):
    code = "DUPLICATE_DOCUMENT"


class RoutingError(GatewayError):
    code = "ROUTING_ERROR"


class TransportError(GatewayError):
    code = "TRANSPORT_ERROR"
    retryable = True


class ConnectorUnavailable(TransportError):
    code = "CONNECTOR_UNAVAILABLE"
    retryable = True


class ConnectorRejected(TransportError):
    code = "CONNECTOR_REJECTED"
    retryable = False


class StorageError(GatewayError):
    code = "STORAGE_ERROR"
    retryable = True


__all__ = [
    "ConfigError",
    "ConnectorRejected",
    "ConnectorUnavailable",
    "DuplicateDocument",
    "GatewayError",
    "Issue",
    "MappingError",
    "ParseError",
    "PartnerError",
    "RoutingError",
    "Severity",
    "StorageError",
    "TransportError",
    "UnknownFormat",
    "UnknownPartner",
    "UnsupportedDocument",
    "ValidationError",
]
