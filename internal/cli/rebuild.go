package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/linkage/linkage/ami/collector"
	"github.com/linkage/linkage/ent/server"
	"github.com/linkage/linkage/internal/app"
)

const rebuildUsage = `Re-assembles the calls of a period from the journal of raw AMI events and replaces
the stored calls of that period in one transaction (after an assembler fix, or to repair
a period). Times are RFC 3339 (2026-11-26T00:00:00Z) or dates (2026-11-26, UTC).`

func runRebuild(ctx context.Context, env *Env, args []string) error {
	var fromS, toS, serverName string
	opts, err := serverOptions(env, "rebuild", rebuildUsage, args, func(fs *flag.FlagSet) {
		fs.StringVar(&fromS, "from", "", "start of the period (required)")
		fs.StringVar(&toS, "to", "", "end of the period, exclusive (required)")
		fs.StringVar(&serverName, "server", "", "only this server (name); default all")
	})
	if err != nil {
		return err
	}
	from, err1 := parseWhen(fromS)
	to, err2 := parseWhen(toS)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if !from.Before(to) {
		return fmt.Errorf("--from %s is not before --to %s", fromS, toS)
	}
	return withAuth(ctx, env, opts, func(ctx context.Context, a *app.App) error {
		id := 0
		if serverName != "" {
			s, err := a.Client.Server.Query().Where(server.Name(serverName)).Only(ctx)
			if err != nil {
				return fmt.Errorf("no server named %q", serverName)
			}
			id = s.ID
		}
		res, err := collector.Rebuild(ctx, a.DB, a.Client, from, to, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "rebuilt %s .. %s: %d events read, %d calls replaced by %d, %d still unfinished at the journal's end\n",
			from.Format(time.RFC3339), to.Format(time.RFC3339), res.Events, res.Deleted, res.Written, res.Unfinished)
		return nil
	})
}

func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("--from and --to are required")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 or YYYY-MM-DD", s)
}
