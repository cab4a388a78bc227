// Package greeting is imported by the hello fixture, so that the tests can show
// that a change in an imported package of this module changes the asset hash.
package greeting

// Text is what the fixture answers.
const Text = "hello"
