"""S3 object notifications delivered through SQS, in every shape AWS sends them.

- CloudTrail's own SNS notification: {"s3Bucket": "...", "s3ObjectKey": ["...", ...]}
- S3 event notifications: {"Records": [{"eventSource": "aws:s3", "s3": {...}}]}
- EventBridge "Object Created" events: {"detail-type": "Object Created", "detail": {...}}
- any of these wrapped in an SNS envelope ({"Type": "Notification", "Message": "<json>"})
- the s3:TestEvent S3 sends when notifications are configured (no objects)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class Notification:
    objects: tuple[tuple[str, str], ...]  # (bucket, key)
    problem: str | None = None  # set when the message is not a notification we understand


def parse(body: str) -> Notification:
    try:
        note = _parse(body)
    except (KeyError, TypeError, AttributeError) as exc:
        return Notification((), f"malformed notification ({type(exc).__name__}: {exc})")
    if any(not isinstance(b, str) or not isinstance(k, str) for b, k in note.objects):
        return Notification((), "malformed notification (bucket or key is not a string)")
    return note


def _parse(body: str) -> Notification:
    try:
        message = json.loads(body)
    except ValueError:
        return Notification((), "message body is not JSON")
    if isinstance(message, dict) and message.get("Type") == "Notification" and "Message" in message:
        try:
            message = json.loads(message["Message"])
        except (TypeError, ValueError):
            return Notification((), "SNS envelope whose Message is not JSON")
    if not isinstance(message, dict):
        return Notification((), "message is not a JSON object")

    if "s3Bucket" in message and isinstance(message.get("s3ObjectKey"), list):
        bucket = message["s3Bucket"]
        return Notification(tuple((bucket, key) for key in message["s3ObjectKey"]))
    if message.get("Event") == "s3:TestEvent":
        return Notification(())
    if isinstance(message.get("Records"), list):
        objects = []
        for record in message["Records"]:
            if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
                return Notification((), "Records entry that is not an S3 event")
            s3 = record.get("s3")
            if not isinstance(s3, dict):
                return Notification((), "Records entry that is not an S3 event")
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            # S3 event keys are URL-encoded, with '+' for spaces.
            objects.append((s3["bucket"]["name"], unquote_plus(s3["object"]["key"])))
        return Notification(tuple(objects))
    if message.get("detail-type") == "Object Created" and isinstance(message.get("detail"), dict):
        detail = message["detail"]
        return Notification(((detail["bucket"]["name"], detail["object"]["key"]),))
    return Notification((), "not an S3 or CloudTrail object notification")
