"""A CDK app as a user writes it: four event-driven pipelines in one stack.

    cdk synth --app "python examples/app.py"
"""
from aws_cdk import App, Duration, Stack

from cdk_event_driven_glue_workflow import (
    EventDrivenGlueWorkflow, InputFormat, RowRule, RuleAction, TableFormat, Transform,
)

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

# The cleaning of the S3 -> Lambda -> Glue guide this library grew from, inside the
# exactly-once job: trimmed, title-cased names; a flag for invalid emails; parsed dates
# (the guide's sample writes dd-MM-yyyy); amounts without currency signs, with their
# category; lower-case status; the processing time and the file name. A row without an id
# is rejected with its reason. (The guide's running total by status is not row-wise: it
# would depend on how the files were batched, so it is left out.)
GUIDE_CLEANING = (
    "SELECT id, name, email, email_valid, date, amount,"
    " CASE WHEN amount < 100 THEN 'low' WHEN amount < 200 THEN 'medium' WHEN amount >= 200 THEN 'high'"
    " END AS amount_category,"
    " status, processing_date, source_file, _source_file"
    " FROM (SELECT try_cast(id AS BIGINT) AS id, initcap(trim(name)) AS name, email,"
    " coalesce(email RLIKE '^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+[.][a-zA-Z]{2,6}$', false) AS email_valid,"
    " to_date(coalesce(try_to_timestamp(CAST(date AS STRING), 'dd-MM-yyyy'),"
    " try_to_timestamp(CAST(date AS STRING), 'yyyy-MM-dd'))) AS date,"
    " try_cast(regexp_replace(CAST(amount AS STRING), '[^0-9.]', '') AS DOUBLE) AS amount,"
    " lower(trim(status)) AS status, current_timestamp() AS processing_date,"
    " regexp_extract(_source_file, '[^/]+$', 0) AS source_file, _source_file"
    " FROM input)"
)

EventDrivenGlueWorkflow(
    stack, "GuideCustomers",
    input_prefix="landing/guide/",
    input_suffixes=[".csv"],
    input_format=InputFormat.CSV,
    output_prefix="processed/customers/",
    transform=Transform.sql(GUIDE_CLEANING),
    row_rules=[
        RowRule.matches("email", "^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+[.][a-zA-Z]{2,6}$",
                        name="Invalid email", action=RuleAction.FLAG),
        RowRule.not_null("id", name="missing id"),
    ],
)

app.synth()
