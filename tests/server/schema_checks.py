"""What every answer the schemathesis tests receive is checked for: no 5xx, and conformance to
the OpenAPI document (status, content type, headers, body). One list for the stateless run and
the stateful one, which adds checks of its own."""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CONFORMANCE = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
