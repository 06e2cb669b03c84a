// Command linkage is call-center statistics and live monitoring for Asterisk.
// Subcommands are in internal/cli; this file only hands over the process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/linkage/linkage/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
