package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent/queue"
	"github.com/linkage/linkage/ent/user"
	"github.com/linkage/linkage/internal/app"
	"github.com/linkage/linkage/internal/config"
)

// runUser is `linkage user add|passwd`: the first admin, and recovery when nobody
// can sign in. It works on the database directly, as the system.
func runUser(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(env.Stderr, "Usage: linkage user add|passwd [flags]\n\n"+
			"  add     create a user with roles and queues\n"+
			"  passwd  set a user's password (and end their sessions)\n\n"+
			"Run 'linkage user add --help' for the flags.\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return errUsage
	}
	switch args[0] {
	case "add":
		return runUserAdd(ctx, env, args[1:])
	case "passwd":
		return runUserPasswd(ctx, env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "linkage user: unknown subcommand %q (want add or passwd)\n", args[0])
	return errUsage
}

func runUserAdd(ctx context.Context, env *Env, args []string) error {
	var login, roles, queues, listen, display string
	var fromStdin bool
	opts, err := serverOptions(env, "user add", "Creates a user. Without --password-stdin a password is generated and printed once.", args, func(fs *flag.FlagSet) {
		fs.StringVar(&login, "login", "", "login of the new user (required)")
		fs.StringVar(&roles, "role", "", "comma-separated roles: "+strings.Join(auth.Roles, ", ")+" (required)")
		fs.StringVar(&queues, "queues", "", "comma-separated queue numbers the user may see (all servers' queues of that number); '*' for every queue")
		fs.StringVar(&listen, "listen-queues", "", "comma-separated queue numbers whose recordings the user may hear; '*' for all of --queues")
		fs.StringVar(&display, "name", "", "display name")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	})
	if err != nil {
		return err
	}
	if login == "" || roles == "" {
		return errors.New("--login and --role are required")
	}
	password := ""
	if fromStdin {
		if password, err = readPassword(env.Stdin); err != nil {
			return err
		}
	}
	return withAuth(ctx, env, opts, func(ctx context.Context, a *app.App) error {
		g := auth.Grant{AllGroups: true, AllGroupOperators: true}
		listenSet := map[string]bool{}
		for _, n := range config.SplitList(listen) {
			listenSet[n] = true
		}
		if queues == "*" {
			g.AllQueues, g.ListenAll = true, listen == "*"
		} else if nums := config.SplitList(queues); len(nums) > 0 {
			qs, err := a.Client.Queue.Query().Where(queue.NumberIn(nums...)).All(ctx)
			if err != nil {
				return err
			}
			found := map[string]bool{}
			for _, q := range qs {
				found[q.Number] = true
				g.Queues = append(g.Queues, auth.QueueGrant{QueueID: q.ID, Listen: listen == "*" || listenSet[q.Number]})
			}
			for _, n := range nums {
				if !found[n] {
					return fmt.Errorf("no queue %q (queues appear once a server reports them)", n)
				}
			}
		}
		u, generated, err := a.Auth.CreateUser(ctx, auth.NewUser{Login: login, DisplayName: display, Password: password,
			Roles: config.SplitList(roles), Grant: g})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "created user %s (id %d) with roles %s\n", u.Login, u.ID, roles)
		if generated != "" {
			fmt.Fprintf(env.Stdout, "password: %s\n", generated)
		}
		return nil
	})
}

func runUserPasswd(ctx context.Context, env *Env, args []string) error {
	var login string
	var fromStdin bool
	opts, err := serverOptions(env, "user passwd", "Sets a user's password and ends their sessions. Without --password-stdin a password is generated and printed once.", args, func(fs *flag.FlagSet) {
		fs.StringVar(&login, "login", "", "login of the user (required)")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	})
	if err != nil {
		return err
	}
	if login == "" {
		return errors.New("--login is required")
	}
	password := ""
	if fromStdin {
		if password, err = readPassword(env.Stdin); err != nil {
			return err
		}
	}
	return withAuth(ctx, env, opts, func(ctx context.Context, a *app.App) error {
		u, err := a.Client.User.Query().Where(user.Login(login)).Only(ctx)
		if err != nil {
			return fmt.Errorf("no user %q", login)
		}
		generated, err := a.Auth.SetPassword(ctx, u.ID, password)
		if err != nil {
			return err
		}
		if !u.Enabled {
			fmt.Fprintf(env.Stderr, "note: user %s is disabled\n", login)
		}
		fmt.Fprintf(env.Stdout, "password of %s changed; their sessions were ended\n", login)
		if generated != "" {
			fmt.Fprintf(env.Stdout, "password: %s\n", generated)
		}
		return nil
	})
}

// withAuth opens the database and access control, runs fn as the system, and closes.
func withAuth(ctx context.Context, env *Env, opts config.Options, fn func(context.Context, *app.App) error) error {
	// Commands log only warnings: their output is what they print.
	opts.LogLevel = "warn"
	a := app.New(opts, opts.NewLogger(os.Stderr))
	if err := a.OpenForCommand(ctx); err != nil {
		return err
	}
	err := fn(auth.SystemContext(ctx), a)
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	return errors.Join(err, a.Stop(stopCtx))
}

func readPassword(r io.Reader) (string, error) {
	if r == nil {
		r = os.Stdin
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	p := strings.TrimRight(line, "\r\n")
	if p == "" {
		return "", errors.New("no password on standard input")
	}
	return p, nil
}
