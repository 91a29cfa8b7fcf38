export * from './event-driven-glue-workflow';
export * from './glue-workflow-target';
