"""The state the phases of one run share."""
import datetime
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from .commit import StateStore
from .storage import Storage


def log(msg):
    print("[parquet-conversion] %s" % msg, flush=True)


def client(clients, name, region=None):
    """The boto3 client for a service: the one given, or one of the job's session (``aws``)."""
    if clients and clients.get(name) is not None:
        return clients[name]
    from . import aws
    return aws.client(name, region)


def parallel(fn, items, workers=16):
    """Map fn over items with a thread pool (S3 HEAD/GET latency), in order."""
    if len(items) <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


class RunContext:
    """One execution of the job: its configuration, clients and what it has done so far.

    ``files`` holds one record per distinct object version (uri, bucket, key,
    etag, receipts, bytes, rows_in/out/rejected, status, reason); ``pending`` is
    the write-ahead record (None outside the protected section); ``destinations``
    lists every object this run may have written, for rollback.
    """

    def __init__(self, spark, cfg, clients=None):
        self.spark = spark
        self.cfg = cfg
        self.faults = cfg.faults
        self.clients = dict(clients or {})
        self.lock = threading.Lock()
        self._clients_lock = threading.Lock()
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.base_run_id = "run-%s-%s" % (self.started.strftime("%Y%m%dT%H%M%S"), uuid.uuid4().hex[:8])
        self.storage = Storage(self.client("s3"))
        self.state = StateStore(self.storage, cfg.state_path,
                                legacy=StateStore(self.storage, cfg.legacy_state_path) if cfg.legacy_state_path else None)
        self.ledger = None
        self.catalog = None
        self.iceberg = None
        self.held = []
        self.released = []
        self.begin_round(1)

    def begin_round(self, number):
        """Fresh per-round state: a round is one commit of the protocol, with its own run id.

        Round 1 uses the run's id; a run that keeps draining the ledger after
        ``max_files_per_run`` objects commits each further round as ``<id>-r<n>``.
        """
        self.round = number
        self.run_id = self.base_run_id if number == 1 else "%s-r%d" % (self.base_run_id, number)
        self.files = []
        self.messages = []
        self.round_messages = []
        self.destinations = []
        self.pending = None
        self.out_schema = None
        self.read_path = None
        self.loaded_bytes = 0
        self.iceberg_created = False
        self.snapshot = {}
        self.rows_written = 0
        self.phases = {}
        self._mark = time.time()

    def leased(self):
        """Receipts of the ledger messages this run holds: the round's and those left for the next."""
        return [m["receipt"] for m in list(self.messages) + list(self.held)]

    def client(self, name):
        """The service's client, created once per run in the job's region."""
        with self._clients_lock:
            if self.clients.get(name) is None:
                self.clients[name] = client(None, name, self.cfg.region)
            return self.clients[name]

    def timed(self, phase):
        """Records the seconds since the previous phase ended under ``phase``."""
        now = time.time()
        self.phases[phase] = round(now - self._mark, 3)
        self._mark = now

    def todo(self):
        """The file records still to be read (no status yet)."""
        return [f for f in self.files if f["status"] is None]

    def write_pending(self, destinations=()):
        """Write-ahead: record destinations before anything is copied there."""
        with self.lock:
            if self.pending is None:
                return
            self.destinations.extend(destinations)
            self.pending["destinations"] = list(self.destinations)
            self.pending["heartbeat_at"] = time.time()
            self.state.write_pending(self.pending)
