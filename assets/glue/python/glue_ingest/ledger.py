"""The SQS event ledger: drained by a run, acknowledged only after its commit."""
import json
import time

from .events import parse_event


class Ledger:
    """Drains the SQS event ledger; acks only what the caller says."""

    def __init__(self, sqs, queue_url, visibility_timeout=3600, wait_seconds=2, dead_letter_url=None):
        self.sqs = sqs
        self.queue_url = queue_url
        self.dead_letter_url = dead_letter_url
        self.visibility_timeout = int(visibility_timeout)
        self.wait_seconds = int(wait_seconds)

    def drain(self, max_objects, held=()):
        """Receive messages until max_objects distinct objects or the queue is empty.

        ``held``: messages received earlier and still leased (left over by the
        previous round of this run); they are taken first. Returns (messages,
        leftover): each message is a dict with receipt, message_id, sent_at
        (epoch seconds), refs (object refs) and error; messages beyond the
        bound stay leased in ``leftover`` for the next round.
        """
        messages, leftover, seen = [], [], set()

        def take(item):
            new = {(r["bucket"], r["key"], r["etag"]) for r in item["refs"]} - seen
            if len(seen) >= max_objects and new:
                leftover.append(item)
                return
            seen.update(new)
            messages.append(item)

        for item in held:
            take(item)
        while len(seen) < max_objects:
            resp = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                VisibilityTimeout=self.visibility_timeout, WaitTimeSeconds=self.wait_seconds,
                AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
            batch = resp.get("Messages", [])
            if not batch:
                break
            for msg in batch:
                attributes = msg.get("Attributes", {})
                item = {"receipt": msg["ReceiptHandle"], "message_id": msg["MessageId"],
                        "body": msg["Body"], "refs": [], "error": None,
                        "sent_at": int(attributes.get("SentTimestamp", time.time() * 1000)) / 1000.0,
                        "receive_count": int(attributes.get("ApproximateReceiveCount", 1))}
                try:
                    item["refs"] = parse_event(msg["Body"])
                except (ValueError, KeyError, TypeError) as err:
                    item["error"] = "%s: %s" % (type(err).__name__, err)
                take(item)
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
        """Make messages visible again at once, for the next run."""
        return self._batched(receipts, self.sqs.change_message_visibility_batch,
                             VisibilityTimeout=0)

    def extend(self, receipts):
        """Reset the visibility timeout of in-flight messages (heartbeat)."""
        if receipts:
            self._batched(receipts, self.sqs.change_message_visibility_batch,
                          VisibilityTimeout=self.visibility_timeout)

    def park(self, message, reason):
        """Moves a message to the dead-letter queue with its reason, then deletes it here.

        For messages too old to wait longer: they reach the DLQ (and its alarm)
        instead of expiring silently at the end of the ledger's retention.
        """
        self.sqs.send_message(QueueUrl=self.dead_letter_url, MessageBody=message["body"], MessageAttributes={
            "reason": {"DataType": "String", "StringValue": reason[:1000]},
            "ledger_message_id": {"DataType": "String", "StringValue": message["message_id"]},
            "sent_at": {"DataType": "Number", "StringValue": str(int(message["sent_at"]))},
        })
        self.ack([message["receipt"]])

    def waiting(self):
        """Messages visible in the ledger now (approximate, as SQS counts them)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0))


def describe(message):
    """A short text naming a message's objects, for logs and reasons."""
    refs = message.get("refs") or []
    return json.dumps([r["key"] for r in refs][:5]) if refs else message["message_id"]
