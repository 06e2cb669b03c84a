package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/server"
	"github.com/linkage/linkage/internal/app"
	"github.com/linkage/linkage/internal/config"
	"github.com/linkage/linkage/internal/servers"
)

const serverUsage = `Manages the Asterisk servers Linkage listens to. A running server picks up changes
within seconds, without a restart.

  linkage server add --name N --ami HOST:PORT --username U --secret S [--timezone Z]
  linkage server list
  linkage server disable --name N     stop listening, keep the statistics
  linkage server enable --name N
  linkage server remove --name N      only a server with no stored calls

The secret may also come from LINKAGE_AMI_SECRET, so it does not show in the process list.
Database flags (--data-dir, --database-url) work as for 'linkage serve'.`

func runServer(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(env.Stderr, serverUsage)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "add":
		return serverAdd(ctx, env, rest)
	case "list":
		return withAdmin(ctx, env, "server list", rest, nil, func(ctx context.Context, c *ent.Client) error {
			return serverList(ctx, env, c)
		})
	case "enable", "disable":
		var name string
		return withAdmin(ctx, env, "server "+sub, rest, func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "server name")
		}, func(ctx context.Context, c *ent.Client) error {
			n, err := c.Server.Update().Where(server.Name(name)).SetEnabled(sub == "enable").Save(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("no server named %q", name)
			}
			fmt.Fprintf(env.Stdout, "server %s %sd\n", name, sub)
			return nil
		})
	case "remove":
		var name string
		return withAdmin(ctx, env, "server remove", rest, func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "server name")
		}, func(ctx context.Context, c *ent.Client) error {
			s, err := servers.ByName(ctx, c, name)
			if err != nil {
				return err
			}
			if err := servers.Delete(ctx, c, s.ID); errors.Is(err, servers.ErrHasCalls) {
				return fmt.Errorf("server %q has stored calls; 'linkage server disable --name %s' stops listening and keeps them", name, name)
			} else if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "server %s removed\n", name)
			return nil
		})
	default:
		fmt.Fprintf(env.Stderr, "linkage server: unknown subcommand %q\n\n%s\n", sub, serverUsage)
		return errUsage
	}
}

func serverAdd(ctx context.Context, env *Env, args []string) error {
	var name, addr, user, secret, tz, trunkPrefixes, trunkContexts string
	var disabled bool
	return withAdmin(ctx, env, "server add", args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "unique server name (required)")
		fs.StringVar(&addr, "ami", "", "AMI address HOST:PORT (required)")
		fs.StringVar(&user, "username", "", "manager.conf user (required)")
		fs.StringVar(&secret, "secret", "", "manager.conf secret (or LINKAGE_AMI_SECRET)")
		fs.StringVar(&tz, "timezone", "UTC", "IANA time zone of the server, e.g. Europe/Moscow")
		fs.StringVar(&trunkPrefixes, "trunk-prefixes", "", "comma-separated channel prefixes of trunks, e.g. PJSIP/trunk")
		fs.StringVar(&trunkContexts, "trunk-contexts", "", "comma-separated dialplan contexts of inbound trunk calls, e.g. from-trunk")
		fs.BoolVar(&disabled, "disabled", false, "add the server without connecting to it")
	}, func(ctx context.Context, c *ent.Client) error {
		if secret == "" {
			secret = env.Getenv("LINKAGE_AMI_SECRET")
		}
		enabled := !disabled
		s, err := servers.Create(ctx, c, servers.Input{Name: &name, AMIAddress: &addr, AMIUsername: &user, AMISecret: &secret,
			Timezone: &tz, Enabled: &enabled,
			TrunkPrefixes: config.SplitList(trunkPrefixes), TrunkContexts: config.SplitList(trunkContexts)})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "server %s added (id %d)\n", s.Name, s.ID)
		return nil
	})
}

func serverList(ctx context.Context, env *Env, c *ent.Client) error {
	list, err := c.Server.Query().Order(ent.Asc(server.FieldName)).All(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tAMI\tUSERNAME\tTIMEZONE\tENABLED")
	for _, s := range list {
		// The secret is never printed.
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%v\n", s.ID, s.Name, s.AmiAddress, s.AmiUsername, s.Timezone, s.Enabled)
	}
	return w.Flush()
}

// withAdmin parses the database flags plus the command's own, opens the database
// for administration and runs fn as the system with a client.
func withAdmin(ctx context.Context, env *Env, name string, args []string, flags func(*flag.FlagSet), fn func(context.Context, *ent.Client) error) error {
	opts, err := serverOptions(env, name, serverUsage, args, flags)
	if err != nil {
		return err
	}
	return withAuth(ctx, env, opts, func(ctx context.Context, a *app.App) error { return fn(ctx, a.Client) })
}
