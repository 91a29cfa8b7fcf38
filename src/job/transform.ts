import * as fs from 'fs';
import * as path from 'path';
import { Token } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

/**
 * What a transform gives the job: its arguments, and the code it ships.
 *
 * @internal
 */
export interface TransformConfig {
  /** The job arguments that describe the transform. */
  readonly arguments: Record<string, string>;
  /** A zip of the user's code for `--extra-py-files`, for a Python transform. */
  readonly code?: s3assets.Asset;
}

/**
 * Your cleaning of the batch's rows, inside the default job: after the read, before the
 * rows are written, in the same exactly-once round.
 *
 * A transform is row-wise: each row it returns comes from one row it was given, keeping
 * that row's `_source_file`. It may change values, add or drop columns (not
 * `_source_file`) and filter rows out; the rows it filters out are counted per file as
 * `rows_filtered`. A transform that drops `_source_file`, or returns rows no input row
 * produced, fails the round: nothing is committed and the ledger messages are released.
 * Aggregations and window functions across rows are not row-wise: their results would
 * depend on how the files were batched.
 *
 * @example
 * new EventDrivenGlueWorkflow(this, 'Customers', {
 *   inputPrefix: 'landing/customers/',
 *   inputFormat: InputFormat.CSV,
 *   transform: Transform.sql(
 *     "SELECT id, initcap(trim(name)) AS name, lower(trim(status)) AS status, _source_file FROM input WHERE status <> 'test'"),
 * });
 */
export abstract class Transform {
  /**
   * A Spark SQL `SELECT` over the view `input`, which holds the batch's rows (with
   * `_source_file`). For example `SELECT *, lower(status) AS status_lc FROM input WHERE id IS NOT NULL`.
   */
  public static sql(statement: string): Transform {
    return new SqlTransform(statement);
  }

  /**
   * A Python function of yours, `function(df) -> df`, called on the batch's rows (a Spark
   * DataFrame with `_source_file`).
   *
   * @param codePath a `.py` file, or a folder holding your module or package; it is shipped
   * as a zip on `--extra-py-files`, like the job's own package, so imports work whatever
   * the uploaded object is called.
   * @param entryPoint `module:function`, e.g. `cleaning:clean_customers`.
   */
  public static fromPython(codePath: string, entryPoint: string): Transform {
    return new PythonTransform(codePath, entryPoint);
  }

  /**
   * Sets the transform up in the job's scope.
   *
   * @internal
   */
  public abstract _bind(scope: Construct): TransformConfig;
}

class SqlTransform extends Transform {
  constructor(private readonly statement: string) {
    super();
    if (!Token.isUnresolved(statement) && !/^\s*(select|with)\b/i.test(statement)) {
      throw new Error(`'Transform.sql' must be a SELECT over the view 'input', got: ${JSON.stringify(statement)}`);
    }
    if (!Token.isUnresolved(statement) && !/\binput\b/i.test(statement)) {
      throw new Error(`'Transform.sql' must read the view 'input' (the batch's rows), got: ${JSON.stringify(statement)}`);
    }
  }

  public _bind(_scope: Construct): TransformConfig {
    return { arguments: { '--transform_sql': this.statement } };
  }
}

/** `module:function`, with dotted module names. */
const ENTRY_POINT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$/;

class PythonTransform extends Transform {
  constructor(private readonly codePath: string, private readonly entryPoint: string) {
    super();
    if (!Token.isUnresolved(entryPoint) && !ENTRY_POINT.test(entryPoint)) {
      throw new Error(`'Transform.fromPython' entryPoint must be 'module:function', got: ${JSON.stringify(entryPoint)}`);
    }
    if (!fs.existsSync(codePath)) {
      throw new Error(`'Transform.fromPython' codePath must be a .py file or a folder, got: ${JSON.stringify(codePath)} `
        + '(not found)');
    }
    const isFile = fs.statSync(codePath).isFile();
    if (isFile && !codePath.endsWith('.py')) {
      throw new Error(`'Transform.fromPython' codePath must be a .py file or a folder, got: ${JSON.stringify(codePath)}`);
    }
    const module = entryPoint.split(':')[0].split('.')[0];
    if (isFile && path.basename(codePath, '.py') !== module) {
      throw new Error(`'Transform.fromPython' entryPoint ${JSON.stringify(entryPoint)} names module ${JSON.stringify(module)}, `
        + `but the file is ${JSON.stringify(path.basename(codePath))}`);
    }
  }

  public _bind(scope: Construct): TransformConfig {
    const isFile = fs.statSync(this.codePath).isFile();
    // A folder asset is uploaded as the zip of its content: the module at the zip's root.
    const code = new s3assets.Asset(scope, 'TransformCode', {
      path: isFile ? path.dirname(this.codePath) : this.codePath,
      exclude: isFile
        ? ['**', `!${path.basename(this.codePath)}`]
        : ['**/__pycache__', '**/*.pyc'],
    });
    return { arguments: { '--transform_python': this.entryPoint }, code };
  }
}
