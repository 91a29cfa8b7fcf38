export * from './event-driven-glue-workflow';
export * from './event-source';
export * from './glue-workflow-target';
export * from './parquet-conversion-job';
