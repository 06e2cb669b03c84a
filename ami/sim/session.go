package sim

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkage/linkage/ami"
)

// classMask is a set of manager event classes (manager.c's EVENT_FLAG_*).
type classMask uint32

// classNames in manager.c order; bit i is classNames[i].
var classNames = []string{"system", "call", "log", "verbose", "command", "agent", "user",
	"config", "dtmf", "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc", "test",
	"security", "message"}

const allClasses classMask = 1<<19 - 1

func classBit(name string) (classMask, bool) {
	for i, n := range classNames {
		if strings.EqualFold(n, name) {
			return 1 << i, true
		}
	}
	return 0, false
}

// parsePrivilege turns "call,all" into the event's class set ("all" is not a class).
func parsePrivilege(p string) classMask {
	var m classMask
	for _, part := range strings.Split(p, ",") {
		if b, ok := classBit(strings.TrimSpace(part)); ok {
			m |= b
		}
	}
	return m
}

// parseEventMask reads an Events:/EventMask: value as manager.c strings_to_mask does:
// on/yes/true/all, off/no/false/none, a number, or a class list.
func parseEventMask(v string) (classMask, bool) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "", "on", "yes", "true", "all", "1":
		return allClasses, true
	case "off", "no", "false", "none", "0":
		return 0, true
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return classMask(n) & allClasses, true
	}
	var m classMask
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if strings.EqualFold(part, "all") {
			m |= allClasses
			continue
		}
		b, ok := classBit(part)
		if !ok {
			return 0, false
		}
		m |= b
	}
	return m, true
}

// session is one manager connection: a reader that handles actions in order and a
// writer that drains a bounded byte queue with a per-write deadline.
type session struct {
	srv  *Server
	conn net.Conn

	mu         sync.Mutex
	pending    []byte
	authed     bool
	mask       classMask
	closeAfter bool // Logoff / failed login / restart: close once the queue is written
	dead       bool

	signal chan struct{}
	done   chan struct{}
}

func newSession(s *Server, c net.Conn) *session {
	return &session{srv: s, conn: c, signal: make(chan struct{}, 1), done: make(chan struct{})}
}

func (ss *session) eventMask() (classMask, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.mask, ss.authed && !ss.dead && !ss.closeAfter
}

func (ss *session) pendingLen() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.pending)
}

// enqueue appends b (one or more whole blocks, so a response and its list items are
// never split by an event). A session already over MaxPending is disconnected.
func (ss *session) enqueue(b []byte) {
	ss.mu.Lock()
	if ss.dead || ss.closeAfter {
		ss.mu.Unlock()
		return
	}
	if len(ss.pending)+len(b) > ss.srv.opts.MaxPending {
		ss.mu.Unlock()
		ss.srv.slowDrops.Add(1)
		ss.kill("slow reader: queue full")
		return
	}
	ss.pending = append(ss.pending, b...)
	ss.mu.Unlock()
	ss.poke()
}

func (ss *session) poke() {
	select {
	case ss.signal <- struct{}{}:
	default:
	}
}

func (ss *session) send(msgs ...ami.Message) {
	var b strings.Builder
	for _, m := range msgs {
		_ = ami.WriteMessage(&b, m)
	}
	ss.enqueue([]byte(b.String()))
}

// closeAfterFlush lets the writer finish what is queued, then closes the socket.
func (ss *session) closeAfterFlush() {
	ss.mu.Lock()
	ss.closeAfter = true
	ss.mu.Unlock()
	ss.poke()
}

func (ss *session) kill(reason string) {
	ss.mu.Lock()
	if ss.dead {
		ss.mu.Unlock()
		return
	}
	ss.dead = true
	ss.mu.Unlock()
	ss.srv.log.Debug("sim: session closed", "remote", ss.conn.RemoteAddr().String(), "reason", reason)
	_ = ss.conn.Close()
	close(ss.done)
	ss.srv.removeSession(ss)
}

func (ss *session) writeLoop() {
	defer ss.srv.wg.Done()
	var buf []byte
	const chunk = 64 << 10
	for {
		select {
		case <-ss.done:
			return
		case <-ss.signal:
		}
		ss.mu.Lock()
		buf, ss.pending = ss.pending, buf[:0]
		closeAfter := ss.closeAfter
		ss.mu.Unlock()
		if len(buf) < ss.srv.opts.MaxPending/2 {
			select {
			case ss.srv.drained <- struct{}{}:
			default:
			}
		}
		for off := 0; off < len(buf); off += chunk {
			end := min(off+chunk, len(buf))
			_ = ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.opts.WriteTimeout))
			if _, err := ss.conn.Write(buf[off:end]); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					ss.srv.slowDrops.Add(1) // Asterisk's writetimeout
				}
				ss.kill("write: " + err.Error())
				return
			}
		}
		if closeAfter {
			ss.mu.Lock()
			more := len(ss.pending) > 0
			ss.mu.Unlock()
			if !more {
				ss.kill("closed after flush")
				return
			}
			ss.poke()
		}
	}
}

func (ss *session) readLoop() {
	defer ss.srv.wg.Done()
	ss.enqueueRaw(ss.srv.opts.Greeting + "\r\n")
	_ = ss.conn.SetReadDeadline(time.Now().Add(ss.srv.opts.AuthTimeout))
	r := ami.NewReader(ss.conn)
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			var fe *ami.FrameError
			if errors.As(err, &fe) {
				// Asterisk answers a broken line and keeps the session.
				ss.send(ami.Message{{Key: "Response", Value: "Error"}, {Key: "Message", Value: "Failed to parse message: " + fe.Reason}})
				continue
			}
			ss.kill("read: " + err.Error())
			return
		}
		if !ss.handle(msg) {
			return // the writer closes the socket once the last reply is out
		}
	}
}

func (ss *session) enqueueRaw(s string) {
	ss.mu.Lock()
	ss.pending = append(ss.pending, s...)
	ss.mu.Unlock()
	ss.poke()
}

// response builds "Response: kind", then the ActionID (always the second line), then
// the rest.
func response(kind string, action ami.Message, rest ...ami.Field) ami.Message {
	m := ami.Message{{Key: "Response", Value: kind}}
	if id, ok := action.Lookup("ActionID"); ok {
		m = append(m, ami.Field{Key: "ActionID", Value: id})
	}
	return append(m, rest...)
}

func msgField(v string) ami.Field { return ami.Field{Key: "Message", Value: v} }

// handle processes one request; false ends the reader (the socket is closing).
func (ss *session) handle(a ami.Message) bool {
	name := strings.TrimSpace(a.Get("Action"))
	if name == "" {
		ss.send(response("Error", a, msgField("Missing action in request")))
		return true
	}
	ss.mu.Lock()
	authed := ss.authed
	ss.mu.Unlock()
	lname := strings.ToLower(name)
	if !authed {
		switch lname {
		case "login":
			return ss.login(a)
		case "logoff":
			return ss.logoff(a)
		default:
			ss.send(response("Error", a, msgField("Permission denied")))
			return true
		}
	}
	srv := ss.srv
	switch lname {
	case "login":
		ss.send(response("Success", a, msgField("Already authenticated")))
	case "logoff":
		return ss.logoff(a)
	case "ping":
		ss.send(response("Success", a, ami.Field{Key: "Ping", Value: "Pong"},
			ami.Field{Key: "Timestamp", Value: formatStamp(srv.currentSimTime())}))
	case "events":
		mask, ok := parseEventMask(a.Get("EventMask"))
		if !ok {
			ss.send(response("Error", a, msgField("Invalid event mask")))
			break
		}
		ss.mu.Lock()
		ss.mask = mask
		ss.mu.Unlock()
		state := "On"
		if mask == 0 {
			state = "Off"
		}
		ss.send(response("Success", a, ami.Field{Key: "Events", Value: state}))
	case "command":
		ss.command(a)
	case "coresettings":
		ss.send(response("Success", a,
			ami.Field{Key: "AMIversion", Value: strings.TrimPrefix(srv.opts.Greeting, "Asterisk Call Manager/")},
			ami.Field{Key: "AsteriskVersion", Value: "20.0.0-linkage-sim"},
			ami.Field{Key: "SystemName", Value: ""},
			ami.Field{Key: "CoreMaxCalls", Value: "0"},
			ami.Field{Key: "CoreMaxLoadAvg", Value: "0.000000"},
			ami.Field{Key: "CoreRunUser", Value: ""},
			ami.Field{Key: "CoreRunGroup", Value: ""},
			ami.Field{Key: "CoreMaxFilehandles", Value: "0"},
			ami.Field{Key: "CoreRealTimeEnabled", Value: "No"},
			ami.Field{Key: "CoreCDRenabled", Value: "Yes"},
			ami.Field{Key: "CoreHTTPenabled", Value: "No"},
			ami.Field{Key: "SoundsSearchCustomDir", Value: "No"}))
	case "userevent":
		ev := ami.Message{{Key: "Event", Value: "UserEvent"}, {Key: "Privilege", Value: "user,all"}}
		for _, f := range a {
			if strings.EqualFold(f.Key, "Action") || strings.EqualFold(f.Key, "ActionID") {
				continue
			}
			ev = append(ev, f) // duplicated headers stay duplicated, as in the lab
		}
		ss.send(response("Success", a, msgField("Event Sent")))
		srv.broadcast([]ami.Event{{Name: "UserEvent", Fields: ev}}, srv.currentSimTime())
	default:
		srv.modelMu.Lock()
		t := srv.simTimeLocked()
		out := srv.model.Action(t, a)
		srv.modelMu.Unlock()
		if len(out) == 0 {
			ss.send(response("Error", a, msgField(fmt.Sprintf(
				"Invalid/unknown command: %s. Use Action: ListCommands to show available commands.", name))))
			break
		}
		ss.send(withActionID(out, a)...)
		srv.wake() // side effects come out of the next Advance
	}
	return true
}

// withActionID makes sure the model's answer carries the request's ActionID: second
// line of the response, last line of list items (where app_queue puts it).
func withActionID(out []ami.Message, a ami.Message) []ami.Message {
	id, ok := a.Lookup("ActionID")
	if !ok {
		return out
	}
	for i, m := range out {
		if m.Has("ActionID") {
			continue
		}
		if m.Has("Response") && len(m) > 0 {
			n := make(ami.Message, 0, len(m)+1)
			n = append(n, m[0], ami.Field{Key: "ActionID", Value: id})
			out[i] = append(n, m[1:]...)
		} else {
			out[i] = append(m[:len(m):len(m)], ami.Field{Key: "ActionID", Value: id})
		}
	}
	return out
}

func (ss *session) login(a ami.Message) bool {
	srv := ss.srv
	user, secret := a.Get("Username"), a.Get("Secret")
	if user != srv.opts.Username || secret != srv.opts.Secret {
		srv.broadcast([]ami.Event{{Name: "InvalidPassword", Fields: ami.Message{
			{Key: "Event", Value: "InvalidPassword"}, {Key: "Privilege", Value: "security,all"},
			{Key: "Severity", Value: "Error"}, {Key: "Service", Value: "AMI"},
			{Key: "EventVersion", Value: "2"}, {Key: "AccountID", Value: user},
			{Key: "RemoteAddress", Value: "IPV4/TCP/" + ss.conn.RemoteAddr().String()},
		}}}, srv.currentSimTime())
		t := time.NewTimer(srv.opts.AuthFailDelay)
		select {
		case <-t.C:
		case <-ss.done:
			t.Stop()
			return false
		}
		ss.send(response("Error", a, msgField("Authentication failed")))
		ss.closeAfterFlush()
		return false
	}
	mask, ok := parseEventMask(a.Get("Events"))
	if !ok {
		mask = allClasses
	}
	uptime := int(time.Since(srv.startWall).Seconds())
	msgs := []ami.Message{response("Success", a, msgField("Authentication accepted"))}
	if mask&1 != 0 { // system class: FullyBooted goes straight into the reply, no Timestamp
		msgs = append(msgs, ami.Message{{Key: "Event", Value: "FullyBooted"}, {Key: "Privilege", Value: "system,all"},
			{Key: "Uptime", Value: strconv.Itoa(uptime)}, {Key: "LastReload", Value: strconv.Itoa(uptime)},
			{Key: "Status", Value: "Fully Booted"}})
	}
	ss.send(msgs...)
	_ = ss.conn.SetReadDeadline(time.Time{})
	ss.mu.Lock()
	ss.authed = true
	ss.mask = mask
	ss.mu.Unlock()
	now := srv.currentSimTime()
	srv.broadcast([]ami.Event{{Name: "SuccessfulAuth", Fields: ami.Message{
		{Key: "Event", Value: "SuccessfulAuth"}, {Key: "Privilege", Value: "security,all"},
		{Key: "EventTV", Value: now.UTC().Format("2006-01-02T15:04:05.000-0700")},
		{Key: "Severity", Value: "Informational"}, {Key: "Service", Value: "AMI"},
		{Key: "EventVersion", Value: "1"}, {Key: "AccountID", Value: user},
		{Key: "SessionID", Value: fmt.Sprintf("%p", ss)},
		{Key: "LocalAddress", Value: "IPV4/TCP/" + ss.conn.LocalAddr().String()},
		{Key: "RemoteAddress", Value: "IPV4/TCP/" + ss.conn.RemoteAddr().String()},
		{Key: "UsingPassword", Value: "0"},
		{Key: "SessionTV", Value: now.UTC().Format("2006-01-02T15:04:05.000-0700")},
	}}}, now)
	return true
}

func (ss *session) logoff(a ami.Message) bool {
	ss.send(response("Goodbye", a, msgField("Thanks for all the fish.")))
	ss.closeAfterFlush()
	return false
}

// command answers the few CLI commands a client might send, in the 14+ format.
func (ss *session) command(a ami.Message) {
	cmd := strings.Join(strings.Fields(a.Get("Command")), " ")
	up := time.Since(ss.srv.startWall)
	var out []string
	switch strings.ToLower(cmd) {
	case "core show uptime":
		out = []string{"System uptime: " + humanDuration(up), "Last reload: " + humanDuration(up)}
	case "core show uptime seconds":
		s := strconv.Itoa(int(up.Seconds()))
		out = []string{"System uptime: " + s, "Last reload: " + s}
	case "core show version":
		out = []string{"Asterisk 20.0.0-linkage-sim built by linkage"}
	default:
		words := strings.Fields(cmd)
		help := strings.Join(words[:min(2, len(words))], " ")
		ss.send(response("Error", a, msgField("Command output follows"),
			ami.Field{Key: "Output", Value: fmt.Sprintf("No such command '%s' (type 'core show help %s' for other possible commands)", cmd, help)}))
		return
	}
	m := response("Success", a, msgField("Command output follows"))
	for _, l := range out {
		m = append(m, ami.Field{Key: "Output", Value: l})
	}
	ss.send(m)
}

// humanDuration formats like Asterisk's CLI: "2 minutes, 35 seconds".
func humanDuration(d time.Duration) string {
	s := int(d.Seconds())
	var parts []string
	add := func(n int, unit string) {
		if n == 0 {
			return
		}
		if n != 1 {
			unit += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, unit))
	}
	add(s/86400, "day")
	add(s%86400/3600, "hour")
	add(s%3600/60, "minute")
	if s%60 != 0 || len(parts) == 0 {
		if s%60 == 1 {
			parts = append(parts, "1 second")
		} else {
			parts = append(parts, fmt.Sprintf("%d seconds", s%60))
		}
	}
	return strings.Join(parts, ", ")
}
