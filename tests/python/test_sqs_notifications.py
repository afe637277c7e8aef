"""Every notification shape AWS delivers through SQS parses to the same (bucket, key) pairs."""

from __future__ import annotations

import json

import pytest

from ingest.sources.sqs_notifications import parse

KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01/x y.json.gz"


def sns(message: dict) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m", "Message": json.dumps(message)})


S3_EVENT = {
    "Records": [
        {
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:CompleteMultipartUpload",
            "s3": {"bucket": {"name": "b"}, "object": {"key": KEY.replace(" ", "+")}},
        },
        {
            "eventSource": "aws:s3",
            "eventName": "ObjectRemoved:Delete",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "gone.json.gz"}},
        },
    ]
}
CLOUDTRAIL = {"s3Bucket": "b", "s3ObjectKey": [KEY]}
EVENTBRIDGE = {
    "detail-type": "Object Created",
    "source": "aws.s3",
    "detail": {"bucket": {"name": "b"}, "object": {"key": KEY}},
}


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(CLOUDTRAIL),
        sns(CLOUDTRAIL),
        json.dumps(S3_EVENT),
        sns(S3_EVENT),
        json.dumps(EVENTBRIDGE),
    ],
    ids=["cloudtrail", "cloudtrail-in-sns", "s3-event", "s3-event-in-sns", "eventbridge"],
)
def test_notification_shapes(body: str) -> None:
    note = parse(body)
    assert note.problem is None
    assert note.objects == (("b", KEY),)


def test_test_event_has_no_objects_and_no_problem() -> None:
    note = parse(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}))
    assert note == parse(sns({"Service": "Amazon S3", "Event": "s3:TestEvent"}))
    assert note.objects == () and note.problem is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "not JSON"),
        (json.dumps({"Type": "Notification", "Message": "{broken"}), "Message is not JSON"),
        (json.dumps([1, 2]), "not a JSON object"),
        (json.dumps({"Records": [{"eventSource": "aws:sqs"}]}), "not an S3 event"),
        (json.dumps({"hello": "world"}), "not an S3 or CloudTrail object notification"),
    ],
)
def test_unknown_messages_are_problems(body: str, problem: str) -> None:
    note = parse(body)
    assert note.objects == ()
    assert problem in (note.problem or "")
