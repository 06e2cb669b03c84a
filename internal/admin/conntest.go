package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// ConnTestInput is what a connection test uses; nil fields come from the stored
// server when one is given.
type ConnTestInput struct {
	Address, Username, Secret *string
}

// ConnTestResult is what a connection test found. Error never contains the secret.
type ConnTestResult struct {
	OK       bool
	Greeting string
	Error    string
	Latency  time.Duration
}

// TestServerConnection logs in to an AMI address with the given settings, or those
// of stored server id for the fields not given, without saving anything, and logs
// off. It is audited as server.test (address and outcome, never the secret).
func (s *Service) TestServerConnection(ctx context.Context, id *int, in ConnTestInput) (*ConnTestResult, error) {
	var res *ConnTestResult
	var addr string
	d := map[string]any{}
	err := s.change(ctx, "server.test", func() string {
		if id != nil {
			return ref("server", *id)
		}
		return "server"
	}, d, func() error {
		var user, secret string
		if id != nil {
			srv, err := s.Client.Server.Get(sys(ctx), *id)
			if err != nil {
				return fmt.Errorf("admin: server %d: %w", *id, err)
			}
			addr, user, secret = srv.AmiAddress, srv.AmiUsername, srv.AmiSecret
		}
		if in.Address != nil {
			addr = strings.TrimSpace(*in.Address)
		}
		if in.Username != nil {
			user = *in.Username
		}
		if in.Secret != nil && *in.Secret != "" {
			secret = *in.Secret
		}
		var f fieldErrs
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			f.add("amiAddress", "%q: want HOST:PORT, e.g. 10.0.0.5:5038", addr)
		}
		if user == "" {
			f.add("amiUsername", "is required")
		}
		if secret == "" {
			f.add("amiSecret", "is required")
		}
		// A line break would end the Login action early and start another one.
		if strings.ContainsAny(user, "\r\n") {
			f.add("amiUsername", "must be one line")
		}
		if strings.ContainsAny(secret, "\r\n") {
			f.add("amiSecret", "must be one line")
		}
		if err := f.err(); err != nil {
			return err
		}
		timeout := s.ConnTimeout
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		r := ProbeAMI(ctx, addr, user, secret, timeout)
		res = &r
		d["address"], d["ok"], d["latencyMs"] = addr, r.OK, r.Latency.Milliseconds()
		if r.Error != "" {
			d["error"] = r.Error
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// ProbeAMI connects to an Asterisk manager interface, reads the greeting, logs
// in and off, all within timeout. It speaks the protocol itself rather than through
// ami.Conn, which retries with backoff and so cannot tell a refused login from a
// slow server.
func ProbeAMI(ctx context.Context, addr, user, secret string, timeout time.Duration) ConnTestResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	fail := func(format string, args ...any) ConnTestResult {
		return ConnTestResult{Error: fmt.Sprintf(format, args...), Latency: time.Since(start)}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return fail("timeout: no connection to %s within %s", addr, timeout)
		}
		return fail("unreachable: %s", netReason(err))
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Closing the socket ends any read in progress when the caller gives up early.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	br := bufio.NewReader(conn)
	greeting, err := br.ReadString('\n')
	greeting = strings.TrimRight(greeting, "\r\n")
	if err != nil {
		if isTimeout(err) || ctx.Err() != nil {
			return fail("timeout: %s accepted the connection but sent no greeting within %s", addr, timeout)
		}
		return fail("no greeting: %s", netReason(err))
	}
	if !strings.HasPrefix(greeting, "Asterisk Call Manager/") {
		return fail("not an Asterisk manager interface: it greeted %q", truncate(greeting, 80))
	}
	const id = "linkage-test-1"
	if _, err := fmt.Fprintf(conn, "Action: Login\r\nActionID: %s\r\nUsername: %s\r\nSecret: %s\r\nEvents: off\r\n\r\n", id, user, secret); err != nil {
		return fail("sending the login: %s", netReason(err))
	}
	resp, err := readResponse(br, id)
	if err != nil {
		if isTimeout(err) || ctx.Err() != nil {
			return fail("timeout: no answer to the login within %s", timeout)
		}
		return fail("reading the login answer: %s", netReason(err))
	}
	latency := time.Since(start)
	if !strings.EqualFold(resp["response"], "Success") {
		msg := resp["message"]
		if msg == "" {
			msg = "no reason given"
		}
		return ConnTestResult{Greeting: greeting, Error: "login refused: " + msg, Latency: latency}
	}
	// Log off politely; the answer does not change the result.
	if _, err := fmt.Fprintf(conn, "Action: Logoff\r\nActionID: linkage-test-2\r\n\r\n"); err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, _ = readResponse(br, "linkage-test-2")
	}
	return ConnTestResult{OK: true, Greeting: greeting, Latency: latency}
}

// readResponse reads message blocks until the response to actionID (keys lower-case).
// Events that arrive meanwhile are skipped.
func readResponse(br *bufio.Reader, actionID string) (map[string]string, error) {
	for {
		m := map[string]string{}
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return nil, err
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			k, v, _ := strings.Cut(line, ":")
			m[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
		if _, ok := m["response"]; ok && (m["actionid"] == "" || m["actionid"] == actionID) {
			return m, nil
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// netReason is the end of a network error ("connection refused"), without the
// addresses Go repeats around it.
func netReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
