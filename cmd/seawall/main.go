// Command seawall secures containers across their life: build, registry,
// deploy and run. See https://github.com/seawall-dev/seawall.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/seawall-dev/seawall/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
