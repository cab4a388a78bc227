// Package frameworktest drives the Okta authorization-server handler (the real
// lambda/oktaauth binary) through aws-cdk-lib's own Provider framework code,
// with CloudFormation's side played by providerframework.Stack, Okta by the
// in-process fake (over HTTPS, since the binary refuses anything else) and
// Secrets Manager by its fake. It holds tests only.
package frameworktest
