package sim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/linkage/linkage/ami/sim/pbx"
)

// Usage describes the simulator for `linkage sim --help`.
const Usage = `linkage sim runs one or more simulated Asterisk 20 servers that speak AMI over TCP.

Each server is a call center: inbound calls arrive on DIDs through a trunk at
--calls-per-hour (shaped by a working-day curve), go through a short IVR into queues
(ringall, rrmemory, leastrecent), ring operators who answer, miss, pause with a
reason, put callers on hold, transfer them (blind or attended) or hang up; operators
also make outbound and internal calls. The events follow what a real Asterisk 20
with chan_pjsip writes (see shared/asterisk-ami-reference.md), and the server answers
the actions Linkage sends: Login (with an Events mask), Ping, Events, Command, Logoff,
QueueStatus, QueueSummary, QueuePause, QueueAdd, QueueRemove, CoreShowChannels,
Originate, Hangup. A session that reads too slowly is disconnected, as Asterisk does.

Time is simulated: --speed 1 is real time, 60 runs a simulated hour per minute, 0
runs as fast as the connected clients read. --servers N starts N independent servers
on consecutive ports; they use the same extension and queue numbers, as two real
call centers would, with different random seeds.
`

// RegisterFlags binds the simulator's flags to an Options with the pbx defaults.
func RegisterFlags(fs *flag.FlagSet) *Options {
	o := &Options{PBX: pbx.DefaultConfig()}
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:5038", "AMI listen address (the first server; others take the next ports)")
	fs.StringVar(&o.Username, "username", "admin", "manager account name")
	fs.StringVar(&o.Secret, "secret", "admin", "manager account secret")
	fs.Uint64Var(&o.PBX.Seed, "seed", o.PBX.Seed, "random seed of the call model (server i uses seed+i)")
	fs.Float64Var(&o.PBX.CallsPerHour, "calls-per-hour", o.PBX.CallsPerHour, "inbound calls per hour at the busiest hour")
	fs.Float64Var(&o.Speed, "speed", 1, "simulated seconds per second; 0 = as fast as clients read")
	fs.IntVar(&o.Servers, "servers", 1, "number of simulated servers on consecutive ports")
	fs.BoolVar(&o.TimestampEvents, "timestamp-events", true, "add Timestamp to events (manager.conf timestampevents=yes)")
	return o
}

// Run starts opts.Servers servers and blocks until ctx ends, then closes them.
func Run(ctx context.Context, opts Options, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := max(opts.Servers, 1)
	host, portStr, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return fmt.Errorf("sim: --listen %q: %w", opts.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || (n > 1 && port == 0) {
		return fmt.Errorf("sim: --listen %q needs a numeric port (not 0 with --servers > 1)", opts.Listen)
	}
	if opts.Username == "" || opts.Secret == "" {
		return errors.New("sim: --username and --secret must not be empty")
	}
	var servers []*Server
	defer func() {
		for i := len(servers) - 1; i >= 0; i-- {
			_ = servers[i].Close()
		}
	}()
	for i := range n {
		o := opts
		o.Listen = net.JoinHostPort(host, strconv.Itoa(port+i))
		o.PBX.Seed = opts.PBX.Seed + uint64(i)
		s := New(o, logger.With("sim_server", i+1))
		if err := s.Start(ctx); err != nil {
			return err
		}
		servers = append(servers, s)
		logger.Info("sim: AMI server listening", "addr", s.Addr(), "speed", o.Speed)
	}
	<-ctx.Done()
	return nil
}
