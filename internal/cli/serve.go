package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/linkage/linkage/internal/app"
	"github.com/linkage/linkage/internal/config"
)

// serverOptions parses the common server flags (serve, migrate, demo ...).
func serverOptions(env *Env, name, synopsis string, args []string, extra func(fs *flag.FlagSet)) (config.Options, error) {
	return serverOptionsFrom(config.Defaults(), env, name, synopsis, args, extra)
}

// serverOptionsFrom is serverOptions with other built-in defaults (the demo listens on
// loopback only unless told otherwise).
func serverOptionsFrom(opts config.Options, env *Env, name, synopsis string, args []string, extra func(fs *flag.FlagSet)) (config.Options, error) {
	if err := opts.ApplyEnv(env.Getenv); err != nil {
		return opts, err
	}
	fs := newFlagSet(env, name, synopsis)
	opts.RegisterFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := parse(fs, args); err != nil {
		return opts, err
	}
	if err := opts.Validate(); err != nil {
		return opts, fmt.Errorf("invalid options:\n%w", err)
	}
	return opts, nil
}

func runServe(ctx context.Context, env *Env, args []string) error {
	opts, err := serverOptions(env, "serve", "Runs the Linkage server on the configured database (a private PostgreSQL cluster under --data-dir unless DATABASE_URL is set).", args, nil)
	if err != nil {
		return err
	}
	log := opts.NewLogger(os.Stderr)
	return app.New(opts, log).Run(ctx)
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	opts, err := serverOptions(env, "migrate", "Applies pending database migrations and exits.", args, nil)
	if err != nil {
		return err
	}
	log := opts.NewLogger(os.Stderr)
	a := app.New(opts, log)
	applied, err := a.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.Stdout, "database is up to date")
	}
	for _, m := range applied {
		fmt.Fprintln(env.Stdout, "applied", m)
	}
	return nil
}

func runVersion(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", "Prints the version.")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "linkage %s (%s)\n", app.Version, runtime.Version())
	return nil
}

func osGetenv(k string) string { return os.Getenv(k) }
