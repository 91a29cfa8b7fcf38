import { Token } from 'aws-cdk-lib';

/** The default Glue table name for a construct id: lower case, with a-z, 0-9 and _ only. */
export function defaultTableName(id: string): string {
  const name = id.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return name.length > 0 ? name : 'events';
}

/**
 * The folder name of a pipeline's own locations (state, rejected, stats): its table name,
 * or, when that is a token, the default table name of its construct id.
 */
export function pipelineNamespace(tableName: string, id: string): string {
  return Token.isUnresolved(tableName) ? defaultTableName(id) : tableName;
}
