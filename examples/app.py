"""A CDK app as a user writes it: two event-driven pipelines in one stack.

    cdk synth --app "python examples/app.py"
"""
from aws_cdk import App, Duration, Stack

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, InputFormat

app = App()
stack = Stack(app, "EventDrivenGlueDemo")

# Product JSON files: small batches, converted within 15 minutes of the first upload.
EventDrivenGlueWorkflow(
    stack, "Products",
    input_prefix="data/products_raw/",
    input_suffixes=[".json", ".json.gz"],
    batch_size=5,
    batch_window=Duration.minutes(15),
    output_prefix="data/products/",
    input_format=InputFormat.JSON,
)

# Customer CSV exports: everything the defaults give, CSV instead of JSON.
EventDrivenGlueWorkflow(
    stack, "Customers",
    input_prefix="landing/customers/",
    input_suffixes=[".csv", ".csv.gz"],
    input_format=InputFormat.CSV,
)

app.synth()
