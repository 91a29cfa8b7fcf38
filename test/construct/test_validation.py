"""Synth-time validation: each bad input is a RuntimeError naming the prop, the value and what is allowed."""
import re

import pytest
from aws_cdk import Duration
from aws_cdk import aws_glue as glue

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow
from cdk_helpers import new_stack


def build(**props):
    stack = new_stack()
    props.setdefault("job", glue.Job.from_job_attributes(stack, "Job", job_name="j"))
    return EventDrivenGlueWorkflow(stack, "Pipeline", **props)


@pytest.mark.parametrize("value", [0, 101, -1])
def test_batch_size_out_of_range(value):
    with pytest.raises(RuntimeError, match=re.escape(f"'batchSize' must be an integer between 1 and 100, got: {value}")):
        build(batch_size=value)


def test_batch_size_not_an_integer():
    with pytest.raises(RuntimeError, match=re.escape("'batchSize' must be an integer between 1 and 100, got: 2.5")):
        build(batch_size=2.5)


@pytest.mark.parametrize("window, shown", [
    (Duration.seconds(901), "901 seconds"),
    (Duration.minutes(16), "960 seconds"),
    (Duration.seconds(0), "0 seconds"),
    (Duration.millis(1500), "1.5 seconds"),
])
def test_batch_window_outside_whole_seconds_1_to_900(window, shown):
    message = f"'batchWindow' must be a whole number of seconds between 1 and 900, got: {shown}"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(batch_window=window)


def test_empty_input_suffix():
    message = "'inputSuffixes' entries must be non-empty strings, got: [\".json\",\"\"] (entry 1 is empty)"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(input_suffixes=[".json", ""])


def test_prefix_with_leading_slash():
    message = "'inputPrefix' must not start with '/' (S3 object keys have no leading slash), got: \"/incoming/\""
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(input_prefix="/incoming/")


@pytest.mark.parametrize("value", [0, -2])
def test_max_concurrent_runs_below_one(value):
    with pytest.raises(RuntimeError, match=re.escape(f"'maxConcurrentRuns' must be an integer of at least 1, got: {value}")):
        build(max_concurrent_runs=value)
