"""The default job of cdk-event-driven-glue-workflow, as a Python package.

It ships to Glue as one zip on ``--extra-py-files`` (the zip's root holds this
package, so its object name does not matter) and is started by the thin entry
script ``parquet_conversion_job.py``. It does not import ``awsglue``: the same
code runs on AWS Glue 5.x and on local Spark 3.5.

Modules, one concern each:

- ``args``: the job arguments Glue passes, parsed into a ``Config``;
- ``context``: the state the phases of one run share;
- ``faults``: the fault-injection points (tests only; no-ops in production);
- ``events``, ``uris``, ``probe``: pure functions;
- ``columns``, ``transforms``, ``schema``, ``known_schema``: pure Spark functions: the
  names of the added columns, the row transforms, the column types, and reading
  JSON Lines with the table's schema;
- ``storage``, ``ledger``, ``catalog``: the thin I/O layer (boto3);
- ``discover``, ``read``, ``publish``, ``commit``, ``stats``: the phases of a run;
- ``run``: runs the phases in order.
"""
