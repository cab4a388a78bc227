// Command smart-healthlake is the CDK app: one stack per environment configured
// in cdk.json. `npx aws-cdk@2 synth` runs it; `-c env=prod` picks one environment.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/stacks"
)

func main() {
	app := awscdk.NewApp(nil)
	if _, err := stacks.AddEnvironments(app); err != nil {
		fmt.Fprintf(os.Stderr, "smart-healthlake: configuration error in cdk.json:\n%v\n", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
	jsii.Close()
}
