//go:build !linux

package pgcluster

import (
	"context"
	"errors"
)

// errUnsupported: the launcher relies on Linux process control (parent-death
// signal, /proc) to guarantee that no server outlives us.
var errUnsupported = errors.New("pgcluster: the private PostgreSQL cluster is supported on Linux only; set DATABASE_URL")

// Start is not supported on this platform.
func Start(ctx context.Context, o Options) (*Cluster, error) { return nil, errUnsupported }

// Stop is not supported on this platform.
func (c *Cluster) Stop(ctx context.Context) error { return errUnsupported }
