package main

import (
	"fmt"

	"golang.org/x/net"
	"golang.org/x/text"
)

func main() { fmt.Println(net.Version(), text.Version()) }
