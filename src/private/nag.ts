import { Aspects, CfnResource, IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/**
 * cdk-nag 3.x reads acknowledgements from the core `Validations` metadata, so the
 * library records them without depending on cdk-nag. Each one targets a single
 * CloudFormation resource and carries its reason.
 */

/** Acknowledges whole rules (not finding-specific) on one resource. */
export function acknowledgeRules(resource: IConstruct, rules: Record<string, string>): void {
  const target = CfnResource.isCfnResource(resource) ? resource : resource.node.defaultChild;
  if (!target || !CfnResource.isCfnResource(target)) {
    throw new Error(`cannot acknowledge rules on ${resource.node.path}: it has no CloudFormation resource`);
  }
  for (const [id, reason] of Object.entries(rules)) {
    Validations.of(target).acknowledge({ id, reason });
  }
}

/** A kind of `*` that a policy may keep, in the statements it was written for, with the reason it is safe. */
export interface WildcardAllowance {
  /** Matched against cdk-nag's flattened finding, e.g. `Resource::<Bucket.Arn>/incoming/*`. */
  readonly finding: RegExp;
  readonly reason: string;
  /**
   * The statements the allowance was written for. cdk-nag names a finding per policy, not per
   * statement: a finding is acknowledged only when every statement of the policy that yields
   * it is one of these, so the same `*` in any other statement stays a finding.
   */
  readonly statements: (statement: PolicyStatementJson) => boolean;
}

/** A statement's sid is one of `sids` and its actions are among `actions`. */
export function statementIs(sids: string[], actions: string[]): (statement: PolicyStatementJson) => boolean {
  return (statement) => sids.includes(statement.Sid ?? '')
    && asArray(statement.Action).every((action) => typeof action === 'string' && actions.includes(action));
}

/**
 * Acknowledges the `AwsSolutions-IAM5` findings of every IAM policy under
 * `scope` that match an allowance and come only from its statements. Findings are
 * computed at synthesis, from the resolved policy, exactly as cdk-nag names them;
 * anything else stays a finding.
 */
export function acknowledgeIamWildcards(scope: IConstruct, allowances: WildcardAllowance[]): void {
  Aspects.of(scope).add(new IamWildcardAcknowledger(allowances));
}

class IamWildcardAcknowledger implements IAspect {
  constructor(private readonly allowances: WildcardAllowance[]) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) {
      return;
    }
    const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: PolicyStatementJson[] };
    for (const [finding, sources] of wildcardFindings(document.Statement ?? [])) {
      const allowance = this.allowances.find((a) => a.finding.test(finding) && sources.every(a.statements));
      if (allowance) {
        Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: allowance.reason });
      }
    }
  }
}

/** An IAM policy statement as CloudFormation has it. */
export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}

/** Each `*` finding of the statements, with the statements that yield it. */
function wildcardFindings(statements: PolicyStatementJson[]): Map<string, PolicyStatementJson[]> {
  const findings = new Map<string, PolicyStatementJson[]>();
  const add = (finding: string, statement: PolicyStatementJson) => {
    const sources = findings.get(finding) ?? [];
    if (!sources.includes(statement)) {
      sources.push(statement);
    }
    findings.set(finding, sources);
  };
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') {
      continue;
    }
    for (const action of asArray(statement.Action)) {
      if (typeof action === 'string' && action.includes('*')) {
        add(`Action::${action}`, statement);
      }
    }
    for (const resource of asArray(statement.Resource)) {
      const flat = flattenCfnReference(resource);
      if (flat.includes('*')) {
        add(`Resource::${flat}`, statement);
      }
    }
  }
  return findings;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) {
    return [];
  }
  return Array.isArray(value) ? value : [value];
}

/** The flat string cdk-nag uses for a CloudFormation value in finding ids. */
export function flattenCfnReference(node: unknown): string {
  if (node === undefined) {
    return '';
  }
  if (typeof node === 'string') {
    return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  }
  const value = node as Record<string, unknown>;
  if (value['Fn::Join']) {
    const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
    return items.map(flattenCfnReference).join(delimiter);
  }
  if (value['Fn::Sub']) {
    return flattenCfnReference(value['Fn::Sub']);
  }
  if (value['Fn::GetAtt']) {
    const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (value['Fn::ImportValue']) {
    return flattenCfnReference(value['Fn::ImportValue']);
  }
  if (value.Ref) {
    return `<${flattenCfnReference(value.Ref)}>`;
  }
  return JSON.stringify(node);
}
