package cli

import (
	"context"
	"log/slog"

	"github.com/linkage/linkage/ami/sim"
)

func runSim(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "sim", sim.Usage)
	opts := sim.RegisterFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	return sim.Run(ctx, *opts, log)
}
