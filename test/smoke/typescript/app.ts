// A user's TypeScript app: the library from the npm tarball, type-checked strictly.
import { App, Duration, Stack } from 'aws-cdk-lib';
import { EventDrivenGlueWorkflow, InputFormat } from 'cdk-event-driven-glue-workflow';

const app = new App();
const stack = new Stack(app, 'SmokeTypeScript');
new EventDrivenGlueWorkflow(stack, 'Orders', {
  inputPrefix: 'landing/orders/',
  inputSuffixes: ['.json'],
  inputFormat: InputFormat.JSON,
  batchSize: 7,
  batchWindow: Duration.seconds(120),
});
app.synth();
