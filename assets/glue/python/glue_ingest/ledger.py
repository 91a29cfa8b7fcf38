"""The SQS event ledger: drained by a run, acknowledged only after its commit."""
import time

from .events import parse_event


class Ledger:
    """Drains the SQS event ledger; acks only what the caller says."""

    def __init__(self, sqs, queue_url, visibility_timeout=3600, wait_seconds=2):
        self.sqs = sqs
        self.queue_url = queue_url
        self.visibility_timeout = int(visibility_timeout)
        self.wait_seconds = int(wait_seconds)
        self.received_at = time.time()

    def drain(self, max_objects):
        """Receive messages until max_objects distinct objects or queue empty.

        Returns (messages, leftover) where each message is a dict with
        receipt, message_id, refs (list of object refs) or error. Messages
        received beyond the bound are returned in leftover.
        """
        messages, leftover, seen = [], [], set()
        self.received_at = time.time()
        while True:
            resp = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                VisibilityTimeout=self.visibility_timeout, WaitTimeSeconds=self.wait_seconds,
                AttributeNames=["ApproximateReceiveCount"])
            batch = resp.get("Messages", [])
            if not batch:
                break
            for msg in batch:
                item = {"receipt": msg["ReceiptHandle"], "message_id": msg["MessageId"],
                        "refs": [], "error": None}
                try:
                    item["refs"] = parse_event(msg["Body"])
                except (ValueError, KeyError, TypeError) as err:
                    item["error"] = "%s: %s" % (type(err).__name__, err)
                new = {(r["bucket"], r["key"], r["etag"]) for r in item["refs"]} - seen
                if len(seen) >= max_objects and new:
                    leftover.append(item)
                    continue
                seen |= new
                messages.append(item)
            if len(seen) >= max_objects:
                break
        return messages, leftover

    def _batched(self, receipts, call, **extra):
        receipts = list(dict.fromkeys(receipts))
        failed = []
        for i in range(0, len(receipts), 10):
            entries = [dict(Id=str(n), ReceiptHandle=r, **extra)
                       for n, r in enumerate(receipts[i:i + 10])]
            resp = call(QueueUrl=self.queue_url, Entries=entries)
            failed.extend(resp.get("Failed", []))
        return failed

    def ack(self, receipts):
        return self._batched(receipts, self.sqs.delete_message_batch)

    def release(self, receipts):
        """Make messages visible again at once (left over by the drain bound)."""
        return self._batched(receipts, self.sqs.change_message_visibility_batch,
                             VisibilityTimeout=0)

    def extend(self, receipts):
        """Reset the visibility timeout of in-flight messages (heartbeat)."""
        if receipts:
            self._batched(receipts, self.sqs.change_message_visibility_batch,
                          VisibilityTimeout=self.visibility_timeout)
