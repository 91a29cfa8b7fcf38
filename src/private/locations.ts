import { Stack, Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';

/**
 * The key prefixes a default job owns in its bucket. Exactly-once bookkeeping (markers,
 * pending and commit records, staging, the optimizer marker) lives under `statePrefix`:
 * it belongs to one pipeline, so two pipelines in one bucket never see each other's.
 */
export interface JobLocations {
  readonly outputPrefix: string;
  readonly rejectedPrefix: string;
  readonly statsPrefix: string;
  readonly statePrefix: string;
}

/**
 * The state root of every default job before state was kept per pipeline. A job that is
 * the only one on its bucket with the default layout still reads it (`--legacy_state_path`),
 * so a pipeline deployed before keeps its markers and its crashed runs are repaired.
 */
export const LEGACY_STATE_PREFIX = '_pipeline/';

/** The default locations of a pipeline whose table is `namespace`: one folder of its own under each. */
export function defaultLocations(namespace: string): JobLocations {
  return {
    outputPrefix: 'parquet/',
    rejectedPrefix: `rejected/${namespace}/`,
    statsPrefix: `stats/${namespace}/`,
    statePrefix: `${LEGACY_STATE_PREFIX}${namespace}/`,
  };
}

/** What one default job registered in its app: who it is and which prefixes of which bucket it uses. */
interface Registration {
  readonly path: string;
  readonly bucket: s3.IBucket;
  readonly inputPrefix: string;
  readonly locations: JobLocations;
  readonly defaultState: boolean;
}

/** The default jobs of each app, by the app's root construct. */
const REGISTRY = new WeakMap<IConstruct, Registration[]>();

/**
 * Registers a default job's locations in its app and refuses one that shares a location
 * with another pipeline on the same bucket: one prefix inside the other, for the output,
 * rejected, stats or state locations, or a location inside the other pipeline's input prefix.
 * Overlapping input prefixes are allowed: two pipelines may read the same objects.
 */
export function registerLocations(scope: IConstruct, registration: Omit<Registration, 'path'>): void {
  const root = scope.node.root;
  const others = REGISTRY.get(root) ?? [];
  const self: Registration = { ...registration, path: scope.node.path };
  for (const other of others.filter((o) => sameBucket(o.bucket, self.bucket))) {
    checkApart(self, other);
  }
  REGISTRY.set(root, [...others, self]);
}

/** Whether `scope`'s job is the only one on its bucket that keeps its state in the default layout. */
export function aloneWithDefaultState(scope: IConstruct, bucket: s3.IBucket): boolean {
  const found = (REGISTRY.get(scope.node.root) ?? []).filter((r) => r.defaultState && sameBucket(r.bucket, bucket));
  return found.length === 1 && found[0].path === scope.node.path;
}

function checkApart(self: Registration, other: Registration): void {
  for (const [prop, location] of Object.entries(self.locations)) {
    for (const [otherProp, otherLocation] of Object.entries(other.locations)) {
      if (overlaps(location, otherLocation)) {
        throw new Error(`'${prop}' (${JSON.stringify(location)}) of ${self.path} and '${otherProp}' `
          + `(${JSON.stringify(otherLocation)}) of ${other.path} overlap in the same bucket: each pipeline's output, `
          + 'rejected records, statistics and exactly-once state must be its own (one pipeline\'s markers would make '
          + 'the other skip files it never ingested). Give each pipeline its own prefixes.');
      }
    }
  }
  for (const [writer, reader] of [[self, other], [other, self]]) {
    for (const [prop, written] of Object.entries(writer.locations)) {
      if (overlaps(written, reader.inputPrefix)) {
        throw new Error(`'${prop}' (${JSON.stringify(written)}) of ${writer.path} overlaps the 'inputPrefix' `
          + `(${JSON.stringify(reader.inputPrefix)}) of ${reader.path} in the same bucket: that pipeline would ingest `
          + 'this one\'s own writes. Choose locations outside every input prefix of the bucket.');
      }
    }
  }
}

function overlaps(a: string, b: string): boolean {
  if (Token.isUnresolved(a) || Token.isUnresolved(b)) {
    return false;
  }
  return a.startsWith(b) || b.startsWith(a);
}

/** The same bucket: one object, or the same name once resolved in one stack. */
function sameBucket(a: s3.IBucket, b: s3.IBucket): boolean {
  if (a === b) {
    return true;
  }
  if (!Token.isUnresolved(a.bucketName) && !Token.isUnresolved(b.bucketName)) {
    return a.bucketName === b.bucketName;
  }
  const stack = Stack.of(a);
  return stack === Stack.of(b)
    && JSON.stringify(stack.resolve(a.bucketName)) === JSON.stringify(stack.resolve(b.bucketName));
}
