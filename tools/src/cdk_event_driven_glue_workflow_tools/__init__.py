"""Run an EventDrivenGlueWorkflow on one machine, and plan its batching.

- ``batching``: Glue EVENT-trigger batching semantics on a virtual clock.
- ``template``: reads a synthesized template: rule pattern, batching, job arguments.
- ``scenario``: arrival traces and sample data (products JSON, customers CSV).
- ``runner``: ``python -m cdk_event_driven_glue_workflow_tools.runner`` replays a trace through the real
  rule pattern, batching and job (local Spark 3.5).
- ``planner``: ``python -m cdk_event_driven_glue_workflow_tools.planner`` compares batch settings with
  Lambda-per-file and a fixed schedule.
"""
