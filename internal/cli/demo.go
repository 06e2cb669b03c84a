package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/operator"
	"github.com/linkage/linkage/ent/pausereason"
	"github.com/linkage/linkage/ent/queue"
	"github.com/linkage/linkage/ent/server"
	"github.com/linkage/linkage/ent/user"
	"github.com/linkage/linkage/internal/app"
	"github.com/linkage/linkage/internal/config"
)

const demoUsage = `Runs the Linkage server together with a simulated call center, so a newcomer sees
calls being assembled and stored within a minute: two simulated Asterisk servers (AMI over
TCP on loopback), each with three queues, eight operators and a supervisor, registered as
servers "demo-1" and "demo-2". Takes every 'linkage serve' flag plus the simulation's own.`

// demoOptions are the simulation knobs of `linkage demo`.
type demoOptions struct {
	speed        float64
	callsPerHour float64
	seed         uint64
	servers      int
	password     string
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	var d demoOptions
	defaults := config.Defaults()
	defaults.Listen = "127.0.0.1:8080" // the demo users' passwords are printed: not for the network
	opts, err := serverOptionsFrom(defaults, env, "demo", demoUsage, args, func(fs *flag.FlagSet) {
		fs.StringVar(&d.password, "demo-password", "", "password of the demo users admin, supervisor and operator (default: generated and printed)")
		fs.Float64Var(&d.speed, "speed", 1, "simulated seconds per second (60 = one simulated hour per minute)")
		fs.Float64Var(&d.callsPerHour, "calls-per-hour", 120, "inbound calls per simulated hour at the busiest hour, per server")
		fs.Uint64Var(&d.seed, "seed", 1, "random seed of the simulated call centers")
		fs.IntVar(&d.servers, "sim-servers", 2, "number of simulated Asterisk servers")
	})
	if err != nil {
		return err
	}
	if d.speed <= 0 || d.servers < 1 || d.callsPerHour < 0 {
		return errors.New("invalid options: --speed must be positive, --sim-servers at least 1, --calls-per-hour not negative")
	}
	log := opts.NewLogger(os.Stderr)
	// The simulators write short synthetic WAVs here, and the demo servers serve
	// recordings from it, so playback works without an Asterisk.
	recDir, err := filepath.Abs(filepath.Join(opts.DataDir, "recordings"))
	if err != nil {
		return err
	}
	sims, err := startDemoSims(ctx, d, recDir, log)
	defer func() {
		for _, s := range sims {
			_ = s.Close()
		}
	}()
	if err != nil {
		return err
	}
	a := app.New(opts, log)
	if err := a.Start(ctx); err != nil {
		return err
	}
	if d.password == "" {
		d.password = auth.GeneratePassword()
	}
	if err := seedDemo(auth.SystemContext(ctx), a, sims, d.password, recDir); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, a.Stop(stopCtx))
	}
	// Connect to the simulators now rather than at the collector's next poll.
	if err := a.Collector.Reload(auth.SystemContext(ctx)); err != nil {
		log.Warn("demo: collector reload", "err", err)
	}
	fmt.Fprintf(env.Stderr, "\nLinkage demo is running: http://%s/ (GraphQL at /graphql, GraphiQL at /graphiql)\n"+
		"Users: admin, supervisor (queue support of demo-1 only), operator (Anna's workplace on demo-1); password: %s\n\n", a.Addr(), d.password)
	return a.Wait(ctx)
}

// startDemoSims starts the simulated servers on free loopback ports with the same
// numbering plan and different seeds, as two real call centers would have.
func startDemoSims(ctx context.Context, d demoOptions, recDir string, log *slog.Logger) ([]*sim.Server, error) {
	var sims []*sim.Server
	for i := range d.servers {
		cfg := pbx.DefaultConfig()
		cfg.Seed = d.seed + uint64(i)
		cfg.CallsPerHour = d.callsPerHour
		s := sim.New(sim.Options{
			Listen: "127.0.0.1:0", Username: "linkage", Secret: "demo",
			TimestampEvents: true, Speed: d.speed, PBX: cfg, RecordingsDir: recDir,
			// Different starts keep the two servers' uniqueids apart, as real clocks would.
			Start: time.Now().UTC().Add(time.Duration(i) * time.Second),
		}, log.With("component", "sim", "sim_server", i+1))
		if err := s.Start(ctx); err != nil {
			return sims, fmt.Errorf("demo: simulator %d: %w", i+1, err)
		}
		sims = append(sims, s)
	}
	return sims, nil
}

// seedDemo points the demo-N server rows at this run's simulators (creating them on
// the first run), registers their queues, and creates or resets the demo users.
func seedDemo(ctx context.Context, a *app.App, sims []*sim.Server, password, recDir string) error {
	c := a.Client
	var supportQueue, demoServer int
	for i, s := range sims {
		name := fmt.Sprintf("demo-%d", i+1)
		id, err := c.Server.Create().
			SetName(name).SetAmiAddress(s.Addr()).SetAmiUsername("linkage").SetAmiSecret("demo").
			SetTimezone("Europe/Moscow").SetEnabled(true).
			SetTrunkPrefixes([]string{"PJSIP/trunk"}).SetTrunkContexts([]string{"from-trunk"}).
			SetRecordingsLocation(recDir).
			OnConflictColumns(server.FieldName).
			UpdateAmiAddress().UpdateAmiUsername().UpdateAmiSecret().UpdateEnabled().UpdateRecordingsLocation().
			ID(ctx)
		if err != nil {
			return fmt.Errorf("demo: register %s: %w", name, err)
		}
		if i == 0 {
			demoServer = id
		}
		// The simulators' queues are registered up front so the demo users can be
		// scoped to them before the first call arrives.
		for _, pq := range pbx.DefaultConfig().Queues {
			q := pq.Name
			qid, err := c.Queue.Create().SetServerID(id).SetNumber(q).SetDisplayName(strings.ToUpper(q[:1])+q[1:]).
				OnConflictColumns(queue.FieldServerID, queue.FieldNumber).Ignore().ID(ctx)
			if err != nil {
				return fmt.Errorf("demo: queue %s on %s: %w", q, name, err)
			}
			if i == 0 && q == "support" {
				supportQueue = qid
			}
		}
	}
	users := []auth.NewUser{
		{Login: "admin", DisplayName: "Admin", Roles: []string{auth.RoleAdmin}},
		{Login: "supervisor", DisplayName: "Supervisor (support)", Roles: []string{auth.RoleSupervisor, auth.RoleListenRecordings},
			Grant: auth.Grant{Queues: []auth.QueueGrant{{QueueID: supportQueue, Listen: true}}, AllGroups: true, AllGroupOperators: true}},
		{Login: "operator", DisplayName: "Operator", Roles: []string{auth.RoleOperator}},
	}
	ids := map[string]int{}
	for _, u := range users {
		u.Password, u.Language = password, "ru"
		existing, err := c.User.Query().Where(user.Login(u.Login)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			nu, _, err := a.Auth.CreateUser(ctx, u)
			if err != nil {
				return fmt.Errorf("demo: user %s: %w", u.Login, err)
			}
			ids[u.Login] = nu.ID
		case err != nil:
			return err
		default:
			if _, err := a.Auth.SetPassword(ctx, existing.ID, password); err != nil {
				return fmt.Errorf("demo: user %s: %w", u.Login, err)
			}
			ids[u.Login] = existing.ID
		}
	}
	return seedDemoWorkplace(ctx, a, demoServer, supportQueue, ids["operator"])
}

// The demo operator's workplace: the user "operator" works as Anna (PJSIP/1001, a
// member of support) on demo-1 and sees the support queue; pause reasons are the ones
// the simulated operators use, plus after-call work.
const (
	demoOperatorExten = "1001"
	demoOperatorName  = "Anna"
)

var demoPauseReasons = []string{"Lunch", "Break", "Training", "After-call work"}

func seedDemoWorkplace(ctx context.Context, a *app.App, serverID, supportQueue, userID int) error {
	c := a.Client
	opID, err := c.Operator.Create().SetServerID(serverID).SetNumber(demoOperatorExten).SetName(demoOperatorName).
		SetInterface("PJSIP/"+demoOperatorExten).SetUserID(userID).
		OnConflictColumns(operator.FieldServerID, operator.FieldNumber).UpdateUserID().ID(ctx)
	if err != nil {
		return fmt.Errorf("demo: operator %s: %w", demoOperatorExten, err)
	}
	// Set on every run, so a data directory from before the workplace gets it too.
	if err := a.Auth.SetGrant(ctx, userID, auth.Grant{Queues: []auth.QueueGrant{{QueueID: supportQueue}},
		AllGroups: true, AllGroupOperators: true, OperatorIDs: []int{opID}}); err != nil {
		return fmt.Errorf("demo: scope of operator: %w", err)
	}
	for i, name := range demoPauseReasons {
		exists, err := c.PauseReason.Query().Where(pausereason.Name(name), pausereason.ServerIDIsNil()).Exist(ctx)
		if err != nil {
			return fmt.Errorf("demo: pause reason %s: %w", name, err)
		}
		if exists {
			continue // the unique index does not cover NULL server ids
		}
		if err := c.PauseReason.Create().SetName(name).SetPosition(i + 1).Exec(ctx); err != nil {
			return fmt.Errorf("demo: pause reason %s: %w", name, err)
		}
	}
	return nil
}
