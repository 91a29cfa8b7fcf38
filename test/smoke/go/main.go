// A user's Go app: the library from the Go module jsii-pacmak generated in dist/go,
// used through the `replace` in go.mod.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-event-driven-glue-workflow/cdk-event-driven-glue-workflow-go/cdkeventdrivenglueworkflow"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("SmokeGo"), nil)
	cdkeventdrivenglueworkflow.NewEventDrivenGlueWorkflow(stack, jsii.String("Orders"), &cdkeventdrivenglueworkflow.EventDrivenGlueWorkflowProps{
		InputPrefix:   jsii.String("landing/orders/"),
		InputSuffixes: jsii.Strings(".json"),
		InputFormat:   cdkeventdrivenglueworkflow.InputFormat_JSON,
		BatchSize:     jsii.Number(9),
		BatchWindow:   awscdk.Duration_Seconds(jsii.Number(360)),
	})
	app.Synth(nil)
}
