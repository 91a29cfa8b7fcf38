import { Annotations, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { IcebergMaintenance } from './options';
import { validateIntegerAtLeast, validateWholeDaysAtLeast } from '../private/validation';

// The Data Catalog's table optimizers of an Iceberg output table: which are on, with which
// settings, and the role they run with.

/** The Data Catalog's optimizer types, as `--iceberg_optimizers` names them. */
export type IcebergOptimizerType = 'compaction' | 'retention' | 'orphan_file_deletion';

/** The CloudWatch Logs group each table optimizer writes to, as the Glue docs name them. */
export const OPTIMIZER_LOG_GROUPS: Record<IcebergOptimizerType, string> = {
  compaction: '/aws-glue/iceberg-compaction/logs',
  retention: '/aws-glue/iceberg-retention/logs',
  orphan_file_deletion: '/aws-glue/iceberg-orphan-file-deletion/logs',
};

/** The Iceberg maintenance settings with their defaults, validated. */
export interface ResolvedIcebergMaintenance {
  /** The optimizers that are on, in the job's names and order. */
  readonly optimizers: IcebergOptimizerType[];
  readonly snapshotRetentionPeriod: Duration;
  readonly snapshotsToRetain: number;
  readonly orphanFileRetentionPeriod: Duration;
}

export function resolveIcebergMaintenance(maintenance: IcebergMaintenance | undefined): ResolvedIcebergMaintenance {
  validateWholeDaysAtLeast('icebergMaintenance.snapshotRetentionPeriod', maintenance?.snapshotRetentionPeriod, 1);
  validateIntegerAtLeast('icebergMaintenance.snapshotsToRetain', maintenance?.snapshotsToRetain, 1);
  validateWholeDaysAtLeast('icebergMaintenance.orphanFileRetentionPeriod', maintenance?.orphanFileRetentionPeriod, 1);
  const on: Record<IcebergOptimizerType, boolean> = {
    compaction: maintenance?.compaction ?? true,
    retention: maintenance?.snapshotRetention ?? true,
    orphan_file_deletion: maintenance?.orphanFileDeletion ?? true,
  };
  return {
    optimizers: (Object.keys(on) as IcebergOptimizerType[]).filter((o) => on[o]),
    snapshotRetentionPeriod: maintenance?.snapshotRetentionPeriod ?? Duration.days(5),
    snapshotsToRetain: maintenance?.snapshotsToRetain ?? 1,
    orphanFileRetentionPeriod: maintenance?.orphanFileRetentionPeriod ?? Duration.days(3),
  };
}

/** `icebergMaintenance` is read only with ICEBERG, and each setting only with its optimizer on. */
export function warnIcebergMaintenanceOptions(scope: IConstruct, maintenance: IcebergMaintenance | undefined, iceberg: boolean): void {
  if (!maintenance) {
    return;
  }
  const warn = (id: string, message: string) => Annotations.of(scope).addWarningV2(`cdk-event-driven-glue-workflow:${id}`, message);
  if (!iceberg) {
    warn('icebergMaintenanceWithParquet', '\'icebergMaintenance\' has no effect with \'tableFormat\' PARQUET: '
      + 'table optimizers maintain Iceberg tables only. Use TableFormat.ICEBERG, or drop it');
    return;
  }
  const settings: Array<[string, unknown, string, boolean | undefined]> = [
    ['snapshotRetentionPeriod', maintenance.snapshotRetentionPeriod, 'snapshotRetention', maintenance.snapshotRetention],
    ['snapshotsToRetain', maintenance.snapshotsToRetain, 'snapshotRetention', maintenance.snapshotRetention],
    ['orphanFileRetentionPeriod', maintenance.orphanFileRetentionPeriod, 'orphanFileDeletion', maintenance.orphanFileDeletion],
  ];
  for (const [setting, value, optimizer, on] of settings) {
    if (value !== undefined && on === false) {
      warn(`${optimizer}OffIgnores${setting.charAt(0).toUpperCase()}${setting.slice(1)}`,
        `'icebergMaintenance.${setting}' has no effect with 'icebergMaintenance.${optimizer}' false`);
    }
  }
}

/** The Iceberg table the optimizers maintain. */
export interface OptimizedTable {
  readonly bucket: s3.IBucket;
  /** The table's location (the output prefix). */
  readonly outputPrefix: string;
  /** Its catalog, database and table ARNs. */
  readonly catalogArns: string[];
}

/**
 * The role the table optimizers assume, with the permissions the Glue docs list
 * for them, scoped to this table: its location's objects, its catalog entries
 * and the optimizers' log groups. Orphan file deletion alone writes nothing.
 */
export function createIcebergOptimizerRole(scope: Construct, optimizers: IcebergOptimizerType[], table: OptimizedTable): iam.Role {
  const role = new iam.Role(scope, 'IcebergOptimizerRole', {
    assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
    description: 'Role of the Data Catalog table optimizers that maintain the Iceberg output table',
  });
  const writes = optimizers.some((o) => o !== 'orphan_file_deletion');
  const stack = Stack.of(scope);
  const listedPrefixes = [`${table.outputPrefix}*`];
  if (!Token.isUnresolved(table.outputPrefix)) {
    // The table location is the prefix without its slash; a listing may use either form.
    listedPrefixes.push(table.outputPrefix.replace(/\/$/, ''));
  }
  const statements = [
    new iam.PolicyStatement({
      sid: 'TableLocationObjects',
      actions: writes ? ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'] : ['s3:GetObject', 's3:DeleteObject'],
      resources: [table.bucket.arnForObjects(`${table.outputPrefix}*`)],
    }),
    new iam.PolicyStatement({
      sid: 'ListTableLocation',
      actions: ['s3:ListBucket'],
      resources: [table.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': listedPrefixes } },
    }),
    new iam.PolicyStatement({
      sid: 'MaintainTableMetadata',
      actions: writes ? ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'] : ['glue:GetDatabase', 'glue:GetTable'],
      resources: table.catalogArns,
    }),
    new iam.PolicyStatement({
      sid: 'WriteOptimizerLogs',
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: optimizers.map((o) => stack.formatArn({
        service: 'logs', resource: 'log-group', resourceName: `${OPTIMIZER_LOG_GROUPS[o]}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })),
    }),
  ];
  const key = table.bucket.encryptionKey;
  if (key) {
    statements.push(new iam.PolicyStatement({
      sid: 'UseTableDataKey',
      actions: writes ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      resources: [key.keyArn],
    }));
  }
  for (const statement of statements) {
    role.addToPrincipalPolicy(statement);
  }
  return role;
}
