import { Token } from 'aws-cdk-lib';

/**
 * What a row that fails a rule gets.
 */
export enum RuleAction {
  /** The row goes to the rejected records, with the rule's name and the failing value as the reason. */
  REJECT = 'REJECT',
  /** The row is kept, and the `data_quality_issues` column lists the rules it failed. */
  FLAG = 'FLAG',
}

/**
 * Options of a row rule.
 */
export interface RowRuleOptions {
  /**
   * The rule's name, in rejection reasons, in `data_quality_issues`, in the stats and in
   * the `RuleFailures` metric.
   *
   * @default - the kind and column, e.g. `notNull(email)`
   */
  readonly name?: string;

  /**
   * What a row that fails the rule gets.
   *
   * @default RuleAction.REJECT
   */
  readonly action?: RuleAction;
}

/**
 * A data quality rule that every row of the batch is checked against, after the
 * transform, in the default job. Rows that fail are rejected or flagged; each rule's
 * failures are counted per file in the stats and as the `RuleFailures` metric.
 *
 * A null value passes `matches`, `oneOf` and `between`: require a value with `notNull`.
 *
 * @example
 * new EventDrivenGlueWorkflow(this, 'Customers', {
 *   inputPrefix: 'landing/customers/',
 *   inputFormat: InputFormat.CSV,
 *   rowRules: [
 *     RowRule.notNull('id', { name: 'missing id' }),
 *     RowRule.matches('country', "^[A-Z]{2}$", { name: 'country code', action: RuleAction.FLAG }),
 *     RowRule.oneOf('status', ['active', 'pending', 'inactive']),
 *     RowRule.between('amount', 0, 100000),
 *     RowRule.sql('signed_up <= current_date()', { name: 'not in the future' }),
 *   ],
 * });
 */
export class RowRule {
  /** The column must have a value. */
  public static notNull(column: string, options: RowRuleOptions = {}): RowRule {
    return new RowRule('not_null', column, options, {});
  }

  /** The column's text must match the regular expression (Java syntax, found anywhere unless anchored). */
  public static matches(column: string, pattern: string, options: RowRuleOptions = {}): RowRule {
    return new RowRule('matches', column, options, { pattern });
  }

  /** The column's value, as text, must be one of these. */
  public static oneOf(column: string, values: string[], options: RowRuleOptions = {}): RowRule {
    if (!Token.isUnresolved(values) && values.length === 0) {
      throw new Error(`'RowRule.oneOf' needs at least one value for column ${JSON.stringify(column)}, got: []`);
    }
    return new RowRule('one_of', column, options, { values });
  }

  /** The column's number must be at least `min` and at most `max`. */
  public static between(column: string, min: number, max: number, options: RowRuleOptions = {}): RowRule {
    if (!Token.isUnresolved(min) && !Token.isUnresolved(max) && min > max) {
      throw new Error(`'RowRule.between' needs min <= max for column ${JSON.stringify(column)}, got: ${min} > ${max}`);
    }
    return new RowRule('between', column, options, { min, max });
  }

  /**
   * A Spark SQL boolean expression over the row's columns that must be true (false or
   * null fails), e.g. `amount >= 0 OR status = 'refund'`.
   */
  public static sql(predicate: string, options: RowRuleOptions = {}): RowRule {
    return new RowRule('sql', undefined, options, { predicate });
  }

  /** The rule's name. */
  public readonly name: string;
  /** What a failing row gets. */
  public readonly action: RuleAction;

  private constructor(
    private readonly kind: string,
    private readonly column: string | undefined,
    options: RowRuleOptions,
    private readonly settings: Record<string, unknown>,
  ) {
    if (column !== undefined && !Token.isUnresolved(column) && column.trim() === '') {
      throw new Error(`'RowRule.${camel(kind)}' needs a column name, got: ${JSON.stringify(column)}`);
    }
    this.name = options.name ?? (column !== undefined ? `${camel(kind)}(${column})` : String(settings.predicate));
    this.action = options.action ?? RuleAction.REJECT;
  }

  /**
   * The rule as the job reads it (`--row_rules`).
   *
   * @internal
   */
  public _render(): Record<string, unknown> {
    return { name: this.name, kind: this.kind, column: this.column, action: this.action, ...this.settings };
  }
}

function camel(kind: string): string {
  return kind.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
}
