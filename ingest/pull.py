"""`ingest pull cloudtrail`: collect CloudTrail from S3 (by listing, or from SQS notifications).

Objects are listed and downloaded in bounded windows, landed batch by batch and their scratch
copies removed, so memory and disk stay flat whatever the size of the bucket. An object that
cannot be fetched is reported and left unrecorded, so the next run tries it again; the
collection cursor never moves past a day with a failed object.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from ingest import state
from ingest.landing import (
    BATCH_MAX_BYTES,
    BATCH_MAX_FILES,
    SOURCE,
    InputObject,
    Lander,
    LandingSummary,
)
from ingest.sources import sqs_notifications
from ingest.sources.s3_cloudtrail import (
    DownloadError,
    Leaf,
    RemoteObject,
    S3CloudTrail,
    days,
    download,
    is_log_object,
    local_name,
)

DEFAULT_DAYS = 7
# Days before a folder's cursor that are listed again: CloudTrail delivers a file keyed under
# a day after that day is over (every midnight), once the cursor has moved on.
LOOKBACK_DAYS = 2
# Day prefixes listed concurrently before their objects are fetched: bounds memory.
LIST_WINDOW = 64

Progress = Callable[[int, int, int], None]  # objects fetched, bytes, records landed


@dataclass
class PullSummary:
    landing: LandingSummary = field(default_factory=LandingSummary)
    leaves: int = 0
    listed_prefixes: list[str] = field(default_factory=list)
    listed_objects: int = 0
    not_log_objects: int = 0
    already_landed: int = 0
    downloaded: int = 0
    downloaded_bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    messages: int = 0
    messages_deleted: int = 0
    messages_kept: list[tuple[str, str]] = field(default_factory=list)
    # when S3 received each object landed by this run (for delivery-to-alert latency)
    delivered_at: dict[str, datetime] = field(default_factory=dict)
    # what looks like a mistake rather than a failure (a prefix with no trail under it)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.messages_kept and not self.warnings


class Fetcher:
    """Downloads objects concurrently into scratch and lands them in batches."""

    def __init__(self, s3, lander: Lander, workers: int, progress: Progress | None) -> None:
        self.s3 = s3
        self.lander = lander
        self.workers = workers
        self.progress = progress
        self.scratch = lander.lake.scratch / f"pull-{os.getpid()}"
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.refused = state.refusal_keys(lander.lake, SOURCE)
        self.counted: set[str] = set()  # refusals counted in this run (once per object)
        self.set_aside: set[str] = set()

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def fetch(self, objects: list[RemoteObject], summary: PullSummary) -> set[str]:
        """Download and land `objects`; return the URIs that failed."""
        failed: set[str] = set()
        # One download per object, even when several notifications name it.
        objects = list({obj.uri: obj for obj in objects}.values())
        for batch in _batches(objects):
            with ThreadPoolExecutor(self.workers) as pool:
                results = list(pool.map(self._download, batch))
            inputs = []
            for obj, result in zip(batch, results, strict=True):
                persistent = isinstance(result, DownloadError) and result.persistent
                if persistent and self._refused(obj, result, summary):
                    continue
                if isinstance(result, Exception):
                    failed.add(obj.uri)
                    summary.failed.append((obj.uri, str(result)))
                else:
                    if state.refusal_key(SOURCE, obj.uri) in self.refused:
                        state.clear_refusal(self.lander.lake, SOURCE, obj.uri)
                    input_object, delivered_at = result
                    inputs.append(input_object)
                    if delivered_at:
                        summary.delivered_at[obj.uri] = delivered_at
                    summary.downloaded += 1
                    summary.downloaded_bytes += input_object.size_bytes
            before = summary.landing.records
            self.lander.land(inputs, summary=summary.landing)
            # Downloaded but not readable now (a full scratch disk is fatal, not this): the
            # object stays unrecorded and its day's cursor pinned, like a failed download.
            for uri, reason in summary.landing.failed:
                failed.add(uri)
                summary.failed.append((uri, reason))
            summary.landing.failed.clear()
            for item in inputs:
                item.path.unlink(missing_ok=True)
            if self.progress:
                self.progress(
                    len(inputs), sum(i.size_bytes for i in inputs), summary.landing.records - before
                )
        return failed

    def _refused(self, obj: RemoteObject, error: DownloadError, summary: PullSummary) -> bool:
        """Count a refusal (once per run); once the object has been refused for long enough
        (ingest.state.set_aside), set it aside (True: it no longer holds back its day)."""
        lake = self.lander.lake
        if obj.uri in self.counted:
            return obj.uri in self.set_aside
        self.counted.add(obj.uri)
        refusal = state.count_refusal(lake, SOURCE, obj.uri, str(error))
        if not state.set_aside(refusal):
            error.args = (
                f"{error} (refused {refusal['attempts']} time(s) since {refusal['first_at'][:16]}"
                f"; set aside after {state.REFUSALS_ALLOWED} refusals over "
                f"{state.REFUSAL_HOURS} h)",
            )
            return False
        reason = (
            f"refused {refusal['attempts']} times by S3 since {refusal['first_at'][:16]}, last: "
            f"{error}; not landed: once access is restored, collect it again with --from"
        )
        self.lander.set_aside(InputObject(obj.uri, self.scratch / local_name(obj.uri), obj.etag,
                                          obj.size), reason, summary.landing)  # fmt: skip
        self.set_aside.add(obj.uri)
        summary.warnings.append(f"{obj.uri}: {reason}")
        return True

    def _download(self, obj: RemoteObject) -> tuple[InputObject, datetime | None] | Exception:
        dest = self.scratch / local_name(obj.uri)
        try:
            etag, size, delivered_at = download(self.s3, obj.bucket, obj.key, dest)
        except DownloadError as exc:
            return exc
        return InputObject(obj.uri, dest, etag, size), delivered_at


def _batches(objects: list[RemoteObject]) -> Iterator[list[RemoteObject]]:
    batch: list[RemoteObject] = []
    size = 0
    for obj in objects:
        if batch and (len(batch) >= BATCH_MAX_FILES or size + obj.size > BATCH_MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(obj)
        size += obj.size
    if batch:
        yield batch


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def today() -> date:
    return datetime.now(UTC).date()


def pull_bucket(
    source: S3CloudTrail,
    lander: Lander,
    *,
    start: date | None,
    end: date | None,
    workers: int,
    progress: Progress | None = None,
    lookback_days: int = LOOKBACK_DAYS,
) -> PullSummary:
    """List the requested days of every account/region folder and land what is new. Without
    `start`, each folder is listed from `lookback_days` before its cursor: objects delivered
    late for those days are collected, the others are known by key and ETag and skipped."""
    summary = PullSummary()
    end = end or today()
    # A day is only ever complete once it is over: the cursor never passes today.
    reached = min(end, today())
    collection = f"s3://{source.bucket}/{source.root}"
    cursors = state.read_cursors(lander.lake, SOURCE, collection)
    leaves = source.leaves()
    summary.leaves = len(leaves)
    if not leaves:
        summary.warnings.append(
            f"no CloudTrail folders under {collection.rstrip('/')}/ "
            "(<prefix>/AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/): check the bucket, "
            "--prefix, --org-id, --account and --region"
        )

    def first_day(leaf: Leaf) -> date:
        if start is not None:
            return start
        if leaf.prefix in cursors:
            # The cursor day may have been "today" when it was listed, and the days before it
            # may still receive late files: list them again.
            return cursors[leaf.prefix] - timedelta(days=lookback_days)
        return end - timedelta(days=DEFAULT_DAYS - 1)

    plan = [(leaf, day) for leaf in leaves for day in days(first_day(leaf), end)]
    lander.known.preload({f"{day:%Y/%m/%d}" for _, day in plan})
    failed_days: dict[str, date] = {}
    fetcher = Fetcher(source.s3, lander, workers, progress)
    try:
        with ThreadPoolExecutor(workers) as pool:
            for window in _chunks(plan, LIST_WINDOW):
                listings = list(pool.map(lambda item: source.list_day(*item), window))
                wanted = []
                for (leaf, day), listed in zip(window, listings, strict=True):
                    summary.listed_prefixes.append(f"{leaf.prefix}{day:%Y/%m/%d}/")
                    for obj in listed:
                        summary.listed_objects += 1
                        if not is_log_object(obj.key):
                            summary.not_log_objects += 1
                        elif (obj.uri, obj.etag) in lander.known:
                            summary.already_landed += 1
                        else:
                            wanted.append(obj)
                by_uri = {obj.uri: obj for obj in wanted}
                for uri in fetcher.fetch(wanted, summary):
                    obj = by_uri[uri]
                    failed_days[obj.leaf] = min(failed_days.get(obj.leaf, obj.day), obj.day)
    finally:
        fetcher.close()

    for leaf in leaves:
        previous = cursors.get(leaf.prefix)
        if leaf.prefix in failed_days:
            # Step back before the failed day, so the next run lists it again and retries the
            # object; never forward over days an older cursor has not collected yet.
            retry_from = failed_days[leaf.prefix] - timedelta(days=1)
            cursors[leaf.prefix] = min(retry_from, previous) if previous else retry_from
        elif previous is None or first_day(leaf) <= previous + timedelta(days=1):
            # Advance only over a contiguous collected range, never backwards.
            cursors[leaf.prefix] = max(reached, previous) if previous else reached
    state.write_cursors(lander.lake, SOURCE, collection, cursors)
    return summary


def pull_queue(
    s3,
    sqs,
    queue_url: str,
    lander: Lander,
    *,
    workers: int,
    max_messages: int | None,
    until_empty: bool,
    delete: bool,
    wait_seconds: int = 20,
    progress: Progress | None = None,
) -> PullSummary:
    """Consume S3/CloudTrail object notifications; delete a message once all its objects landed."""
    summary = PullSummary()
    fetcher = Fetcher(s3, lander, workers, progress)
    handled: set[str] = set()
    try:
        while max_messages is None or summary.messages < max_messages:
            wanted = 10 if max_messages is None else min(10, max_messages - summary.messages)
            response = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=wanted, WaitTimeSeconds=wait_seconds
            )
            # A message kept earlier in this run can come back once its visibility times out;
            # it waits for the next run (or the queue's dead-letter policy), so it is not "new".
            messages = [m for m in response.get("Messages", []) if m["MessageId"] not in handled]
            if not messages:
                if until_empty:
                    break
                continue
            handled.update(m["MessageId"] for m in messages)
            summary.messages += len(messages)
            _handle_messages(messages, s3, sqs, queue_url, fetcher, summary, delete)
    finally:
        fetcher.close()
    return summary


def _handle_messages(messages, s3, sqs, queue_url, fetcher, summary, delete) -> None:
    plans: list[tuple[dict, list[RemoteObject]]] = []
    for message in messages:
        note = sqs_notifications.parse(message.get("Body", ""))
        if note.problem:
            # Left in the queue: after maxReceiveCount the queue's redrive policy parks it.
            summary.messages_kept.append((message["MessageId"], note.problem))
            plans.append((message, []))
            continue
        objects = []
        for bucket, key in note.objects:
            summary.listed_objects += 1
            if not is_log_object(key):
                summary.not_log_objects += 1
                continue
            objects.append(RemoteObject(bucket=bucket, key=key, etag="", size=0))
        plans.append((message, objects))

    failed = fetcher.fetch([obj for _, objects in plans for obj in objects], summary)
    for message, objects in plans:
        if any(kept == message["MessageId"] for kept, _ in summary.messages_kept):
            continue
        if any(obj.uri in failed for obj in objects):
            summary.messages_kept.append((message["MessageId"], "an object failed to download"))
            continue
        if delete:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            summary.messages_deleted += 1
