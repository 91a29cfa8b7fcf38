package smoke;

import io.github.cdk_event_driven_glue_workflow.EventDrivenGlueWorkflow;
import io.github.cdk_event_driven_glue_workflow.InputFormat;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;

/** A user's Java app: the library from the Maven artifact jsii-pacmak built. */
public final class SmokeApp {
    private SmokeApp() {
    }

    public static void main(final String[] args) {
        App app = new App();
        Stack stack = new Stack(app, "SmokeJava");
        EventDrivenGlueWorkflow.Builder.create(stack, "Orders")
                .inputPrefix("landing/orders/")
                .inputSuffixes(List.of(".json"))
                .inputFormat(InputFormat.JSON)
                .batchSize(8)
                .batchWindow(Duration.seconds(240))
                .build();
        app.synth();
    }
}
