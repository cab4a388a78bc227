// Command broken is a fixture that does not compile: a type error the golambda
// tests expect to see in the synthesis failure.
package main

func main() {
	var answer int = "forty-two"
	_ = answer
}
