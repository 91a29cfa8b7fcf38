export * from './event-driven-glue-workflow';
export * from './event-driven-glue-workflow-options';
export * from './event-source';
export * from './glue-workflow-target';
export * from './job/options';
export * from './job/parquet-conversion-job';
export * from './job/row-rules';
export * from './job/transform';
