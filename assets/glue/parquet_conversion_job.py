"""Default AWS Glue job of cdk-event-driven-glue-workflow: new files -> Parquet.

This is the script ``ScriptLocation`` points at. The job itself is the package
``glue_ingest``, which Glue puts on the Python path from the zip on
``--extra-py-files`` (the zip's root holds the package, so the object's name,
a CDK asset hash, does not matter). Nothing here imports ``awsglue``: the same
script runs on AWS Glue 5.x and on local Spark 3.5. See docs/JOB.md.
"""
import sys

from glue_ingest.run import main

if __name__ == "__main__":
    main(sys.argv[1:])
