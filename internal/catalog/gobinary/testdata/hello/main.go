// Command hello is a test fixture: a Go program with a plain module
// dependency, a dependency replaced by another module version, and one
// replaced by a local directory.
package main

import (
	"example.com/seawall/greet"
	"example.com/seawall/local"
	"example.com/seawall/old"
)

func main() {
	println(greet.Hello(), old.Name(), local.Name())
}
