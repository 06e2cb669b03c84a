package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/linkage/linkage/internal/app"
	"github.com/linkage/linkage/internal/seed"
)

func runSeed(ctx context.Context, env *Env, args []string) error {
	so := seed.Defaults()
	var end string
	opts, err := serverOptions(env, "seed", "Bulk-generates a realistic dataset (calls with legs, queue visits and attempts, status history) for benchmarks and demos.", args,
		func(fs *flag.FlagSet) {
			fs.IntVar(&so.Days, "days", so.Days, "days of calls, ending yesterday (UTC)")
			fs.IntVar(&so.CallsPerDay, "calls-per-day", so.CallsPerDay, "average calls per day")
			fs.IntVar(&so.Servers, "servers", so.Servers, "Asterisk servers")
			fs.IntVar(&so.QueuesPerServer, "queues", so.QueuesPerServer, "queues per server")
			fs.IntVar(&so.OperatorsPerServer, "operators", so.OperatorsPerServer, "operators per server")
			fs.Uint64Var(&so.Seed, "seed", so.Seed, "random seed (the same seed gives the same data; once per database)")
			fs.IntVar(&so.Workers, "workers", so.Workers, "days written in parallel")
			fs.StringVar(&end, "end", "", "first day after the data, YYYY-MM-DD (default today, UTC)")
		})
	if err != nil {
		return err
	}
	if end != "" {
		if so.End, err = time.Parse("2006-01-02", end); err != nil {
			return fmt.Errorf("--end: %w", err)
		}
	}
	log := opts.NewLogger(os.Stderr)
	so.Log = log
	var st seed.Stats
	err = withAuth(ctx, env, opts, func(ctx context.Context, a *app.App) (err error) {
		st, err = seed.Run(ctx, a.DB, so)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "seeded %s .. %s: %d calls, %d legs, %d queue visits, %d queue attempts, %d status changes in %s\n",
		st.From.Format("2006-01-02"), st.To.Format("2006-01-02"), st.Calls, st.Legs, st.Visits, st.Attempts, st.StatusChanges, st.Took.Round(time.Second))
	return nil
}
