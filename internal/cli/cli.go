// Package cli implements linkage's subcommands: flags and environment into options,
// then a call into the package that does the work.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	// run parses args with its own FlagSet and does the work.
	run func(ctx context.Context, env *Env, args []string) error
}

// Env is what a command may touch of the process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

func commands() []command {
	return []command{
		{"serve", "run the server: AMI collectors, GraphQL API, web app", runServe},
		{"demo", "run the server with a simulated call center feeding it (what make run starts)", runDemo},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"assemble", "print the calls assembled from AMI capture files as JSON lines", runAssemble},
		{"rebuild", "re-assemble a period from the journal and replace its calls", runRebuild},
		{"server", "add, list, disable or remove the Asterisk servers Linkage listens to", runServer},
		{"sim", "run simulated Asterisk servers (AMI over TCP) with a call-center model", runSim},
		{"user", "add a user or set a password (first admin, recovery)", runUser},
		{"version", "print the version", runVersion},
		{"seed", "generate a realistic dataset in bulk (benchmarks, demos)", runSeed},
	}
}

// errUsage marks an error already explained by the FlagSet's usage output.
var errUsage = errors.New("usage")

var flagErrHelp = flag.ErrHelp

// Main runs the subcommand named by args[0] and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return MainEnv(ctx, args, &Env{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr})
}

// MainEnv is Main with an explicit environment, for tests.
func MainEnv(ctx context.Context, args []string, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = osGetenv
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(env.Stderr, "linkage %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "linkage: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	var b strings.Builder
	b.WriteString("Linkage: call-center statistics and live monitoring for Asterisk.\n\nUsage: linkage <command> [flags]\n\nCommands:\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'linkage <command> --help' for the flags of a command.\n")
	io.WriteString(w, b.String())
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(env *Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("linkage "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: linkage %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and maps a parse failure to errUsage (the FlagSet has printed it).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return errUsage
	}
	return nil
}
