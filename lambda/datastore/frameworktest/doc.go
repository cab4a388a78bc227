// Package frameworktest drives the data store handler (the real
// lambda/datastore binary, as onEvent and as isComplete) through aws-cdk-lib's
// own Provider framework code, with CloudFormation's side played by
// providerframework.Stack and HealthLake and CloudFormation's DescribeStacks
// by the in-process fakes. It holds tests only.
package frameworktest
