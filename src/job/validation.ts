import { Duration, Token } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { CsvOptions, ParquetConversionOptions, TableFormat } from './options';
import { RowRule } from './row-rules';
import { validateWholeSeconds } from '../private/validation';

// The checks of the default job's props that only it makes; the shared ones are in
// ../private/validation.

/** A lower-case column name, as the Data Catalog keeps it. */
const COLUMN = '[a-z_][a-z0-9_]*';
const PARQUET_PARTITION = new RegExp(`^${COLUMN}$`);
/** A column or an Iceberg partition transform, as the job's `iceberg.partition_spec` accepts them. */
const ICEBERG_PARTITION = new RegExp(`^(?:${COLUMN}|(?:years|months|days|hours)\\(\\s*${COLUMN}\\s*\\)`
  + `|(?:bucket|truncate)\\(\\s*[1-9][0-9]*\\s*,\\s*${COLUMN}\\s*\\))$`);


/** A run must stop taking new rounds early enough to finish before the job times out. */
export function validateDrainTimeBudget(budget: Duration | undefined, jobTimeout: Duration): void {
  if (budget === undefined || budget.isUnresolved()) {
    return;
  }
  if (jobTimeout.isUnresolved()) {
    validateWholeSeconds('drainTimeBudget', budget, 60, Number.MAX_SAFE_INTEGER, 'of at least 60');
    return;
  }
  const limit = jobTimeout.toSeconds();
  validateWholeSeconds('drainTimeBudget', budget, 60, limit - 1,
    `of at least 60 and less than 'jobTimeout' (${limit} seconds)`);
}


export function validateCsvOptions(options: CsvOptions | undefined): void {
  if (!options) {
    return;
  }
  for (const name of ['delimiter', 'quote', 'escape'] as const) {
    const value = options[name];
    if (value !== undefined && !Token.isUnresolved(value) && Array.from(value).length !== 1) {
      throw new Error(`'csvOptions.${name}' must be exactly one character, got: ${JSON.stringify(value)}`);
    }
  }
  const encoding = options.encoding;
  if (encoding !== undefined && !Token.isUnresolved(encoding) && !/^[A-Za-z0-9._:-]+$/.test(encoding)) {
    throw new Error(
      `'csvOptions.encoding' must be a character set name of letters, digits and . _ : - (e.g. "UTF-8"), got: ${JSON.stringify(encoding)}`,
    );
  }
}

/** The Data Catalog types a column may be declared as: `decimal(p,s)` with 1 <= p <= 38 and s <= p. */
const DECLARABLE_TYPE = /^(?:boolean|tinyint|smallint|int|bigint|float|double|string|date|timestamp|decimal\(\s*(\d+)\s*,\s*(\d+)\s*\))$/;

export function validateColumnTypes(columnTypes: { [column: string]: string } | undefined): void {
  if (!columnTypes || Token.isUnresolved(columnTypes)) {
    return;
  }
  for (const [column, type] of Object.entries(columnTypes)) {
    if (Token.isUnresolved(column) || Token.isUnresolved(type)) {
      continue;
    }
    if (column.trim() === '') {
      throw new Error(`'columnTypes' keys must be column names, got: ${JSON.stringify(column)}`);
    }
    const match = DECLARABLE_TYPE.exec(type.trim().toLowerCase());
    const decimal = match && match[1] !== undefined ? [Number(match[1]), Number(match[2])] : undefined;
    if (!match || (decimal && (decimal[0] < 1 || decimal[0] > 38 || decimal[1] > decimal[0]))) {
      throw new Error(`'columnTypes' type of ${JSON.stringify(column)} must be boolean, tinyint, smallint, int, bigint, `
        + `float, double, decimal(p,s) (1 <= p <= 38, s <= p), string, date or timestamp, got: ${JSON.stringify(type)}`);
    }
  }
}


/** Glue queues only standard runs, and only of jobs without retries. */
export function validateJobRunQueuing(props: ParquetConversionOptions): void {
  if (!props.jobRunQueuing) {
    return;
  }
  if (props.executionClass === glue.ExecutionClass.FLEX) {
    throw new Error('\'jobRunQueuing\' cannot be used with \'executionClass\' FLEX: Glue queues only standard job runs');
  }
  const retries = props.jobMaxRetries;
  if (retries !== undefined && !Token.isUnresolved(retries) && retries !== 0) {
    throw new Error(`'jobMaxRetries' must be 0 with 'jobRunQueuing' (Glue allows no retries for a job with run queuing), got: ${retries}`);
  }
}

export function validateDirectoryPrefix(prop: string, value: string): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (value === '' || !value.endsWith('/')) {
    throw new Error(`'${prop}' must be a non-empty key prefix ending in '/', got: ${JSON.stringify(value)}`);
  }
}

export function validateTableName(name: string): void {
  if (Token.isUnresolved(name)) {
    return;
  }
  if (!/^[a-z0-9_]{1,255}$/.test(name)) {
    throw new Error(`'tableName' must be 1 to 255 characters of a-z, 0-9 and _, got: ${JSON.stringify(name)}`);
  }
}

export function validatePartitionColumns(columns: string[], format: TableFormat): void {
  for (const column of columns) {
    if (Token.isUnresolved(column)) {
      continue;
    }
    if (format === TableFormat.ICEBERG) {
      if (column === 'ingest_date') {
        throw new Error('\'partitionColumns\' entry "ingest_date" is the run date of TableFormat.PARQUET, not a column of '
          + `an Iceberg table: use "days(_ingested_at)" to partition by the day rows were ingested, got: ${JSON.stringify(columns)}`);
      }
      if (!ICEBERG_PARTITION.test(column)) {
        throw new Error('\'partitionColumns\' entries must be lower-case column names (a-z, 0-9, _) or, with TableFormat.ICEBERG, '
          + 'the transforms years(col), months(col), days(col), hours(col), bucket(n, col) or truncate(n, col) '
          + `with n a positive integer, got: ${JSON.stringify(columns)}`);
      }
    } else if (!PARQUET_PARTITION.test(column)) {
      if (ICEBERG_PARTITION.test(column)) {
        throw new Error(`'partitionColumns' entry ${JSON.stringify(column)} is an Iceberg partition transform: it needs `
          + `'tableFormat' TableFormat.ICEBERG, got: ${JSON.stringify(columns)}`);
      }
      throw new Error(`'partitionColumns' entries must be lower-case column names (a-z, 0-9, _), got: ${JSON.stringify(columns)}`);
    }
  }
}

/** Rule names identify a rule in reasons, stats and metrics: each is one rule's. */
export function validateRowRules(rules: RowRule[] | undefined): void {
  const seen = new Set<string>();
  for (const rule of rules ?? []) {
    if (Token.isUnresolved(rule.name)) {
      continue;
    }
    if (seen.has(rule.name)) {
      throw new Error(`'rowRules' names must be distinct, got ${JSON.stringify(rule.name)} twice: give one a 'name'`);
    }
    seen.add(rule.name);
  }
}
