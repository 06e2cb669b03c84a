package collector

import (
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ent"
)

// Sink receives every live event of each server with the assembler's outputs for it
// (notifications and finished calls), for live state and CRM notifications. Replays
// from the journal are not published. Publish is called from one goroutine per
// server, in order, off the ingestion path: when it is slow its queue fills and
// events are dropped and counted (linkage_collector_sink_dropped_total), never waited
// for. e and outs belong to the Sink.
type Sink interface {
	Publish(serverID int, e *ami.Event, outs []assemble.Output)
}

// Options configure a Collector. Zero values take the defaults in setDefaults.
type Options struct {
	DB     *sql.DB
	Client *ent.Client
	Logger *slog.Logger
	// Registerer receives the collector's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// Sink gets live outputs; nil means none.
	Sink Sink
	// JournalRetention: daily journal partitions older than this are dropped
	// (default 90 days).
	JournalRetention time.Duration
	// PollInterval is how often the Server table is re-read (default 5 s).
	PollInterval time.Duration
	// BatchSize (default 5000 events) and FlushInterval (default 200 ms) bound a
	// journal/calls write batch.
	BatchSize     int
	FlushInterval time.Duration
	// ConnConfig overrides the AMI configuration built from a Server row (tests:
	// timeouts, backoff). ServerID, Addr, Username and Secret are filled in when empty.
	ConnConfig func(s *ent.Server) ami.Config
	// AssembleConfig overrides the assembler configuration built from the Server row
	// and its operators and trunks (see AssembleConfig).
	AssembleConfig func(s *ent.Server, ops []*ent.Operator, trunks []*ent.Trunk) assemble.Config
	// LockRetry is how often a standby pipeline retries the server's advisory lock
	// (default 3 s).
	LockRetry time.Duration
	// SinkQueue bounds the events waiting for the Sink per server (default 65536: a
	// few seconds of a busy server's stream).
	SinkQueue int
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.JournalRetention <= 0 {
		o.JournalRetention = 90 * 24 * time.Hour
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.LockRetry <= 0 {
		o.LockRetry = 3 * time.Second
	}
	if o.SinkQueue <= 0 {
		o.SinkQueue = 65536
	}
	if o.AssembleConfig == nil {
		o.AssembleConfig = AssembleConfig
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.DB == nil {
		errs = append(errs, errors.New("collector: Options.DB is nil"))
	}
	if o.Client == nil {
		errs = append(errs, errors.New("collector: Options.Client is nil"))
	}
	return errors.Join(errs...)
}

// AssembleConfig is the default assembler configuration of a server: its trunk
// contexts and prefixes, custom variables, known operators (queue members are learned
// as they appear) and trunk numbers as DIDs.
func AssembleConfig(s *ent.Server, ops []*ent.Operator, trunks []*ent.Trunk) assemble.Config {
	cfg := assemble.Config{
		Server:         s.Name,
		LearnOperators: true,
		TrunkContexts:  s.TrunkContexts,
		TrunkPrefixes:  s.TrunkPrefixes,
		Variables:      s.CustomVariables,
	}
	for _, op := range ops {
		o := assemble.Operator{Exten: op.Number, Name: op.Name}
		if op.Interface != "" {
			if strings.HasPrefix(strings.ToLower(op.Interface), "local/") {
				o.Interfaces = []string{op.Interface}
			} else {
				o.Device = op.Interface
			}
		}
		cfg.Operators = append(cfg.Operators, o)
	}
	for _, t := range trunks {
		cfg.DIDs = append(cfg.DIDs, t.Number)
	}
	return cfg
}

// connConfig builds the AMI configuration of a server.
func (o *Options) connConfig(s *ent.Server) ami.Config {
	var cfg ami.Config
	if o.ConnConfig != nil {
		cfg = o.ConnConfig(s)
	}
	if cfg.ServerID == 0 {
		cfg.ServerID = s.ID
	}
	if cfg.Name == "" {
		cfg.Name = s.Name
	}
	if cfg.Addr == "" {
		cfg.Addr = s.AmiAddress
	}
	if cfg.Username == "" {
		cfg.Username = s.AmiUsername
	}
	if cfg.Secret == "" {
		cfg.Secret = s.AmiSecret
	}
	if cfg.Logger == nil {
		cfg.Logger = o.Logger
	}
	return cfg
}
