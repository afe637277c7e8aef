"""Where a Sigma CloudTrail field lives in `cloudtrail_events`.

Sigma names fields by their path in the CloudTrail record (`eventName`,
`userIdentity.arn`, `requestParameters.bucketName`). A path is read from a typed column when
the column holds exactly that value, and otherwise from the JSON document that holds it, with
arrays on the way flattened (a rule on `requestParameters.layers` matches any layer), as
Sigma's other backends do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Paths whose column is the record's value unchanged (staging renames and casts only).
COLUMNS: dict[str, str] = {
    "eventID": "event_id",
    "eventVersion": "event_version",
    "eventSource": "event_source",
    "eventName": "event_name",
    "eventType": "event_type",
    "eventCategory": "event_category",
    "awsRegion": "aws_region",
    "recipientAccountId": "recipient_account_id",
    "sourceIPAddress": "source_ip_address",
    "userAgent": "user_agent",
    "errorCode": "error_code",
    "errorMessage": "error_message",
    "requestID": "request_id",
    "sharedEventID": "shared_event_id",
    "vpcEndpointId": "vpc_endpoint_id",
    "vpcEndpointAccountId": "vpc_endpoint_account_id",
    "readOnly": "read_only",
    "managementEvent": "management_event",
    "userIdentity.type": "principal_type",
    "userIdentity.arn": "principal_arn",
    "userIdentity.accountId": "account_id",
}
BOOLEAN_COLUMNS = {"read_only", "management_event"}

# Top-level JSON documents kept as their own columns; any other path is read from `raw`.
DOCUMENTS: dict[str, str] = {
    "userIdentity": "user_identity",
    "requestParameters": "request_parameters",
    "responseElements": "response_elements",
    "additionalEventData": "additional_event_data",
    "resources": "resources",
    "serviceEventDetails": "service_event_details",
}


@dataclass(frozen=True)
class Field:
    """A Sigma field resolved: a `column`, or the `keys` path inside JSON `document`."""

    path: str
    column: str | None = None
    document: str | None = None
    keys: tuple[str, ...] = ()

    @property
    def is_list(self) -> bool:
        """JSON paths give a list of values (arrays flattened); columns give one value."""
        return self.column is None


def resolve(path: str) -> Field:
    if path in COLUMNS:
        return Field(path, column=COLUMNS[path])
    head, *rest = path.split(".")
    if head in DOCUMENTS and rest:
        return Field(path, document=DOCUMENTS[head], keys=tuple(rest))
    if head in DOCUMENTS:
        return Field(path, document=DOCUMENTS[head])
    return Field(path, document="raw", keys=tuple(path.split(".")))


def values_at(record: dict[str, Any], path: str) -> list[Any]:
    """Every value at a dotted path of a record, arrays flattened, JSON nulls kept as None."""
    current: list[Any] = [record]
    for key in path.split("."):
        found: list[Any] = []
        for value in current:
            if isinstance(value, dict) and key in value:
                child = value[key]
                found.extend(child if isinstance(child, list) else [child])
        current = found
    return current


def as_text(value: Any) -> str | None:
    """A JSON value as the text the SQL side compares: strings as they are, other scalars as
    JSON spells them, objects and arrays as their JSON document (compact)."""
    if value is None or isinstance(value, str):
        return value
    return compact_json(value)


def compact_json(value: Any) -> str:
    """JSON as DuckDB prints it: no spaces, UTF-8 as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def event_row(record: dict[str, Any]) -> dict[str, Any]:
    """The `cloudtrail_events` columns a detection reads, for a CloudTrail-shaped record."""
    row: dict[str, Any] = {}
    for path, column in COLUMNS.items():
        values = values_at(record, path)
        if values and values[0] is not None:
            value = values[0]
            row[column] = value if column in BOOLEAN_COLUMNS else as_text(value)
    for key, column in DOCUMENTS.items():
        if record.get(key) is not None:
            row[column] = compact_json(record[key])
    row["raw"] = compact_json(record)
    return row
