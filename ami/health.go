package ami

import (
	"errors"
	"time"
)

// Health is a snapshot of one connection, for the admin UI and metrics.
type Health struct {
	ServerID int
	Name     string
	Addr     string
	// Connected is true between a successful login and the loss of the link.
	Connected bool
	// Since is when Connected last changed (UTC).
	Since time.Time
	// Greeting is the server's first line ("Asterisk Call Manager/9.0.0").
	Greeting string
	// LastEvent is when the last event was received (UTC).
	LastEvent time.Time
	// EventsReceived counts events delivered to Events(), markers excluded.
	EventsReceived uint64
	// Reconnects counts successful logins after the first.
	Reconnects int
	// Failures counts connection attempts that failed since the last successful login.
	Failures int
	// Overflows counts events dropped because the consumer was too slow.
	Overflows uint64
	// Queued is how many events wait in Events() now.
	Queued int
	// Lag is now minus the Timestamp of the last stamped event (0 when events carry
	// no Timestamp): how far behind Asterisk the consumer side of the socket is, plus
	// any clock skew between the hosts.
	Lag time.Duration
	// LastError describes the last failure ("authentication failed: ...",
	// "dial tcp ...: connection refused"); "" after a clean login. Never holds the secret.
	LastError string
}

// ErrAuth marks a login refused by Asterisk (wrong username or secret).
var ErrAuth = errors.New("authentication failed")

// Health returns a snapshot.
func (c *Conn) Health() Health {
	c.hmu.Lock()
	h := c.health
	stamp := c.lastStamp
	c.hmu.Unlock()
	h.Queued = len(c.events)
	if !stamp.IsZero() {
		h.Lag = time.Since(stamp)
	}
	return h
}

func (c *Conn) setConnected(greeting string) {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	if c.health.Connected {
		return
	}
	if c.health.Greeting != "" || c.health.Reconnects > 0 || !c.health.LastEvent.IsZero() {
		c.health.Reconnects++
	}
	c.health.Connected = true
	c.health.Since = time.Now().UTC()
	c.health.Greeting = greeting
	c.health.Failures = 0
	c.health.LastError = ""
}

func (c *Conn) setDisconnected(err error, wasConnected bool) {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	if c.health.Connected {
		c.health.Since = time.Now().UTC()
	}
	c.health.Connected = false
	if !wasConnected {
		c.health.Failures++
	}
	if err != nil {
		c.health.LastError = err.Error()
	}
}
