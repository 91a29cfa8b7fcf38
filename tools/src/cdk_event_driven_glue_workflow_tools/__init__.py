"""Run an EventDrivenGlueWorkflow on one machine, the way AWS runs it, and plan its batching.

The console script ``cdk-glue-pipeline`` (``cli``) has two commands:

- ``cdk-glue-pipeline plan``: compares batch settings with Lambda-per-file and a fixed
  schedule on an arrival trace (``planner``, on ``batching``'s model of Glue's EVENT
  trigger, drain loop, sweep and dropped firings);
- ``cdk-glue-pipeline run --app "python app.py"``: synthesizes the app and replays a trace
  (``traces``: the built-in acceptance trace, or the user's files) through each pipeline's
  real rule pattern, batching and job (``runner``, ``local_pipeline``): the job is launched
  from the cloud assembly as Glue stages it (``launcher``), in its Glue version's runtime
  (``runtimes``, ``venvs``), against S3, SQS and Glue over HTTP on 127.0.0.1 (``localaws``,
  moto's server, IAM enforced under the role policies ``policy`` resolves from the
  template, with the test-only patches of ``moto_patches``) with local Spark reading
  ``s3://`` through S3A (``sparkconf``); what each pipeline left is read back from outside
  (``readback``) and judged (``acceptance``).

``template`` reads a synthesized template; ``scenario`` holds traces and sample data.
"""
