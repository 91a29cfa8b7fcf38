/** The default Glue table name for a construct id: lower case, with a-z, 0-9 and _ only. */
export function defaultTableName(id: string): string {
  const name = id.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return name.length > 0 ? name : 'events';
}
