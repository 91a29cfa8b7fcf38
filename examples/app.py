"""A CDK app as a user writes it: three event-driven pipelines in one stack.

    cdk synth --app "python examples/app.py"
"""
from aws_cdk import App, Duration, Stack

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, InputFormat, TableFormat

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

# Order events into an Apache Iceberg table: one snapshot per run, compacted by the
# Data Catalog's table optimizers, which the job turns on when it creates the table.
EventDrivenGlueWorkflow(
    stack, "Orders",
    input_prefix="events/orders/",
    input_suffixes=[".jsonl"],
    batch_size=4,
    batch_window=Duration.minutes(10),
    table_format=TableFormat.ICEBERG,
)

app.synth()
