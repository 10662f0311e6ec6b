// Command app is a test fixture installed with "go install module@version",
// which stamps the main module's version into the build information.
package main

import "example.com/seawall/greet"

func main() { println(greet.Hello()) }
