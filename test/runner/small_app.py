"""A one-pipeline app for the runner's end-to-end test."""
from aws_cdk import App, Duration, Stack

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, InputFormat

app = App()
stack = Stack(app, "RunnerTest")
EventDrivenGlueWorkflow(stack, "Items", input_prefix="in/", input_suffixes=[".json"], batch_size=4,
                        batch_window=Duration.minutes(10), output_prefix="out/", input_format=InputFormat.JSON,
                        alarms=False)
app.synth()
