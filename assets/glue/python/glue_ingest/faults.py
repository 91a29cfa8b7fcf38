"""Fault injection: the one place where a run can be made to crash on purpose.

Production runs have no fault configured, and every hook is then a no-op; the
phases call the hooks at fixed points and never look at test names themselves.
Tests configure one point with the ``--crash_at`` job argument.
"""

POINTS = ("after_read", "mid_write", "after_write", "after_catalog", "after_commit")


class SimulatedCrash(BaseException):
    """Raised at a configured point to test crash recovery.

    It stands for the process dying there (an OOM kill, a lost node), so it is
    not an ``Exception``: the run's clean-up on failure does not run, and only
    the lease and the next run's recovery repair what it left.
    """


class Faults:
    def __init__(self, crash_at=None):
        if crash_at and crash_at not in POINTS:
            raise ValueError("--crash_at must be one of %s, got: %s" % (", ".join(POINTS), crash_at))
        self.crash_at = crash_at or None

    def point(self, name):
        """A crash point between two steps of a run."""
        if self.crash_at == name:
            raise SimulatedCrash("simulated crash at %s" % name)

    def during(self, name, done, total):
        """A crash point inside a loop of ``total`` steps: fires about halfway."""
        if self.crash_at == name and done == max(1, total // 2):
            raise SimulatedCrash("simulated crash at %s (%d of %d done)" % (name, done, total))

    def after_loop(self, name):
        """The same point after the loop, for a loop too short to reach halfway."""
        self.point(name)
