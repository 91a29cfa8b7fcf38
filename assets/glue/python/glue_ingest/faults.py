"""Fault injection: the one place where a run can be made to crash on purpose.

Production runs have no fault configured, and every hook is then a no-op; the
phases call the hooks at fixed points and never look at test names themselves.
Tests configure one point with a job argument: ``--crash_at`` makes the process
die there (no clean-up runs), ``--fail_at`` raises an ordinary error there (the
run cleans up after itself, as it would after any bug or service error).
"""

POINTS = ("after_read", "mid_write", "after_write", "after_catalog", "after_commit")
#: Where ``--drop_row_at`` takes one accepted row away: the bug the reconciliation must catch.
ROW_POINTS = ("before_write",)


class SimulatedCrash(BaseException):
    """Raised at a configured point to test crash recovery.

    It stands for the process dying there (an OOM kill, a lost node), so it is
    not an ``Exception``: the run's clean-up on failure does not run, and only
    the lease and the next run's recovery repair what it left.
    """


class InjectedFailure(RuntimeError):
    """Raised at a configured point: an ordinary failure, which the run cleans up after."""


class Faults:
    def __init__(self, crash_at=None, fail_at=None, drop_row_at=None):
        for arg, value, points in (("crash_at", crash_at, POINTS), ("fail_at", fail_at, POINTS),
                                   ("drop_row_at", drop_row_at, ROW_POINTS)):
            if value and value not in points:
                raise ValueError("--%s must be one of %s, got: %s" % (arg, ", ".join(points), value))
        self.crash_at = crash_at or None
        self.fail_at = fail_at or None
        self.drop_row_at = drop_row_at or None

    def rows(self, name, df):
        """The rows about to be written at ``name``; with ``--drop_row_at name``, one fewer
        (a bug that loses a row between read and write, which the reconciliation catches)."""
        if self.drop_row_at != name:
            return df
        from pyspark.sql import functions as F

        # The first row of the first partition, in the same pass as the write (a second pass
        # would count the rows twice wherever the job observes them on the way).
        return df.filter(F.monotonically_increasing_id() != 0)

    def _fire(self, name, detail=""):
        if self.crash_at == name:
            raise SimulatedCrash("simulated crash at %s%s" % (name, detail))
        if self.fail_at == name:
            raise InjectedFailure("injected failure at %s%s" % (name, detail))

    def point(self, name):
        """A fault point between two steps of a run."""
        self._fire(name)

    def during(self, name, done, total):
        """A fault point inside a loop of ``total`` steps: fires about halfway."""
        if done == max(1, total // 2):
            self._fire(name, " (%d of %d done)" % (done, total))

    def after_loop(self, name):
        """The same point after the loop, for a loop too short to reach halfway."""
        self.point(name)
