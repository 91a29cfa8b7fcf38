import { Token } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';

/**
 * The Glue versions the default job is proven on: each has a runtime profile (its Spark,
 * Python, boto3, Iceberg and S3 connector, as AWS publishes them) in the tools package's
 * `runtimes.py`, and the job's tests run on each (`test/runtimes/`). The two lists are
 * checked against each other by `test/construct/test_glue_versions.py`.
 */
export const PROVEN_GLUE_VERSIONS = ['5.0', '5.1', '6.0'];

/**
 * The default: the newest version whose runtime is matched in full where the job is tested
 * (Glue 6.0 runs Python 3.13, which the test machines lack; its job runs there on 3.11).
 */
export const DEFAULT_GLUE_VERSION = glue.GlueVersion.V5_1;

/** `glueVersion` must be one the job is proven on. */
export function validateGlueVersion(version: glue.GlueVersion | undefined): void {
  if (version === undefined || Token.isUnresolved(version)) {
    return;
  }
  if (!PROVEN_GLUE_VERSIONS.includes(version)) {
    throw new Error(`'glueVersion' must be one the default job is proven on, ${PROVEN_GLUE_VERSIONS.join(', ')}, `
      + `got: ${version}`);
  }
}
