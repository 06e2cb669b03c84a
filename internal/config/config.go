// Package config holds the server's Options: one struct, defaults in one place,
// filled from flags and LINKAGE_* environment variables, validated as a whole.
// Only main parses; everything else receives a validated Options.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"
)

// Options configures `linkage serve` (and the commands built on it).
type Options struct {
	Listen          string        // HTTP listen address
	DataDir         string        // where the private PostgreSQL cluster and other state live
	DatabaseURL     string        // external PostgreSQL; empty means the private cluster
	LogFormat       string        // text or json
	LogLevel        string        // debug, info, warn, error
	ShutdownTimeout time.Duration // how long a graceful stop may take in total
	AllowedOrigins  []string      // extra browser origins allowed to open WebSockets
	SessionIdle     time.Duration // a session unused this long ends
	SessionMax      time.Duration // a session ends this long after sign-in
}

// Defaults returns the built-in defaults.
func Defaults() Options {
	return Options{
		Listen:          ":8080",
		DataDir:         "./linkage-data",
		LogFormat:       "text",
		LogLevel:        "info",
		ShutdownTimeout: 15 * time.Second,
		SessionIdle:     12 * time.Hour,
		SessionMax:      7 * 24 * time.Hour,
	}
}

// Env is one environment variable and the flag it sets, for --help and the README.
type Env struct{ Name, Flag string }

// EnvVars lists the environment variables Options reads.
var EnvVars = []Env{
	{"LINKAGE_LISTEN", "listen"},
	{"LINKAGE_DATA_DIR", "data-dir"},
	{"DATABASE_URL", "database-url"},
	{"LINKAGE_LOG_FORMAT", "log-format"},
	{"LINKAGE_LOG_LEVEL", "log-level"},
	{"LINKAGE_SHUTDOWN_TIMEOUT", "shutdown-timeout"},
	{"LINKAGE_ALLOWED_ORIGINS", "allowed-origins"},
	{"LINKAGE_SESSION_IDLE", "session-idle"},
	{"LINKAGE_SESSION_MAX", "session-max"},
}

// RegisterFlags binds o to fs. Environment variables become the flags' defaults,
// so an explicit flag wins over the environment, which wins over the built-in default.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Listen, "listen", o.Listen, "HTTP listen address (env LINKAGE_LISTEN)")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "data directory; the private PostgreSQL cluster lives in DIR/postgres (env LINKAGE_DATA_DIR)")
	fs.StringVar(&o.DatabaseURL, "database-url", o.DatabaseURL, "PostgreSQL URL; empty starts a private cluster under --data-dir (env DATABASE_URL)")
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "log format: text or json (env LINKAGE_LOG_FORMAT)")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "log level: debug, info, warn, error (env LINKAGE_LOG_LEVEL)")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", o.ShutdownTimeout, "deadline for a graceful stop (env LINKAGE_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&o.SessionIdle, "session-idle", o.SessionIdle, "a session unused this long ends (env LINKAGE_SESSION_IDLE)")
	fs.DurationVar(&o.SessionMax, "session-max", o.SessionMax, "a session ends this long after sign-in (env LINKAGE_SESSION_MAX)")
	fs.Func("allowed-origins", "comma-separated browser origins (host patterns) allowed to open WebSocket subscriptions (env LINKAGE_ALLOWED_ORIGINS)", func(s string) error {
		o.AllowedOrigins = SplitList(s)
		return nil
	})
}

// ApplyEnv overlays environment variables on o. Call it before RegisterFlags.
func (o *Options) ApplyEnv(getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	set := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set("LINKAGE_LISTEN", &o.Listen)
	set("LINKAGE_DATA_DIR", &o.DataDir)
	set("DATABASE_URL", &o.DatabaseURL)
	set("LINKAGE_LOG_FORMAT", &o.LogFormat)
	set("LINKAGE_LOG_LEVEL", &o.LogLevel)
	if v := getenv("LINKAGE_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("LINKAGE_SHUTDOWN_TIMEOUT: %w", err)
		}
		o.ShutdownTimeout = d
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"LINKAGE_SESSION_IDLE", &o.SessionIdle}, {"LINKAGE_SESSION_MAX", &o.SessionMax}} {
		if v := getenv(d.name); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			*d.dst = x
		}
	}
	if v := getenv("LINKAGE_ALLOWED_ORIGINS"); v != "" {
		o.AllowedOrigins = SplitList(v)
	}
	return nil
}

// Validate checks the options as a whole and reports every problem at once.
func (o *Options) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: want HOST:PORT or :PORT", o.Listen))
	}
	if o.DatabaseURL == "" && o.DataDir == "" {
		errs = append(errs, errors.New("data-dir: required when no database URL is given"))
	}
	if o.LogFormat != "text" && o.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", o.LogFormat))
	}
	if _, err := ParseLevel(o.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if o.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown-timeout %s: must be positive", o.ShutdownTimeout))
	}
	if o.SessionIdle <= 0 || o.SessionMax <= 0 {
		errs = append(errs, fmt.Errorf("session-idle %s, session-max %s: must be positive", o.SessionIdle, o.SessionMax))
	}
	return errors.Join(errs...)
}

// ParseLevel maps a level name to slog's level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// NewLogger builds the process logger the options ask for.
func (o *Options) NewLogger(w *os.File) *slog.Logger {
	lvl, _ := ParseLevel(o.LogLevel)
	ho := &slog.HandlerOptions{Level: lvl}
	if o.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// SplitList splits a comma-separated flag value, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
