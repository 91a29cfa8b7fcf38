import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Properties for `GlueWorkflowTarget`.
 */
export interface GlueWorkflowTargetProps extends targets.TargetBaseProps {
  /**
   * The role that EventBridge assumes to call `glue:NotifyEvent` on the workflow.
   *
   * The target adds `glue:notifyEvent` on the workflow's ARN to this role's policy.
   * For an imported role, that grant is a no-op: give it the permission yourself.
   *
   * @default - a role per rule assumed by `events.amazonaws.com`, shared with the
   * rule's other role-based targets, allowed `glue:notifyEvent` on this workflow only
   */
  readonly role?: iam.IRole;
}

/**
 * Use an AWS Glue workflow as an EventBridge rule target.
 *
 * Each matched event is sent to the workflow with `glue:NotifyEvent`, where an
 * EVENT trigger counts it towards its batching condition. This is the target that
 * `aws-events-targets` does not have (aws/aws-cdk#18853).
 *
 * @example
 * declare const workflow: glue.IWorkflow;
 * declare const bucket: s3.IBucket;
 *
 * const rule = new events.Rule(this, 'NewObjects', {
 *   eventPattern: {
 *     source: ['aws.s3'],
 *     detailType: ['Object Created'],
 *     detail: { bucket: { name: [bucket.bucketName] } },
 *   },
 * });
 * rule.addTarget(new GlueWorkflowTarget(workflow, {
 *   retryAttempts: 10,
 *   maxEventAge: Duration.hours(2),
 * }));
 */
export class GlueWorkflowTarget implements events.IRuleTarget {
  /**
   * @param workflow the workflow whose EVENT trigger receives the events
   * @param props retry policy, dead-letter queue and role
   */
  constructor(public readonly workflow: glue.IWorkflow, private readonly props: GlueWorkflowTargetProps = {}) {}

  /**
   * Returns the rule target configuration. Called by `rule.addTarget()`.
   */
  public bind(rule: events.IRuleRef, _id?: string): events.RuleTargetConfig {
    const role = this.props.role ?? targets.singletonEventRole(rule);
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['glue:notifyEvent'],
      resources: [this.workflow.workflowArn],
    }));

    if (this.props.deadLetterQueue) {
      targets.addToDeadLetterQueueResourcePolicy(rule, this.props.deadLetterQueue);
    }

    return {
      ...targets.bindBaseTargetConfig(this.props),
      arn: this.workflow.workflowArn,
      role,
      targetResource: this.workflow,
    };
  }
}
