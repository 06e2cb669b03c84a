// Package amitest holds AMI peers for tests: raw TCP servers that say what the
// simulator never would.
package amitest

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/linkage/linkage/ami"
)

// MalformedPeer serves one session on ln: it accepts any login, then sends broken
// blocks between good ones — Good1 (stamped, with good1Fields appended, each ending
// in \r\n), a line without a colon and binary bytes, a key-less line, a 200 KiB
// value (Long), bare-\n framing (Good2) — and answers every later action with an
// error, keeping the link up. The returned channel closes when the session ends
// (the client hung up or ln was closed).
func MalformedPeer(ln net.Listener, good1Fields string) <-chan struct{} {
	done := make(chan struct{})
	go func() { // owned by the caller through ln: ends when the connection or ln closes
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := ami.NewReader(conn)
		io.WriteString(conn, "Asterisk Call Manager/9.0.0\r\n")
		login, _ := r.ReadMessage()
		io.WriteString(conn, "Response: Success\r\nActionID: "+login.Get("ActionID")+"\r\nMessage: Authentication accepted\r\n\r\n")
		io.WriteString(conn, "Event: Good1\r\nPrivilege: call,all\r\nTimestamp: 1795705160.299134\r\n"+good1Fields+"\r\n")
		io.WriteString(conn, "this line has no colon\r\n\x00\x01\x02\xff\r\n\r\n")
		io.WriteString(conn, ": no key\r\nEvent Bad\r\n\r\n")
		io.WriteString(conn, "Event: Long\r\nData: "+strings.Repeat("x", 200<<10)+"\r\n\r\n")
		io.WriteString(conn, "\r\n\r\n\n\nEvent: Good2\nPrivilege: call,all\n\n")
		for {
			m, err := r.ReadMessage()
			if err != nil && !errors.Is(err, ami.ErrFrame) {
				return
			}
			if a := m.Get("Action"); a != "" {
				io.WriteString(conn, "Response: Error\r\nActionID: "+m.Get("ActionID")+"\r\nMessage: Invalid/unknown command: "+a+"\r\n\r\n")
			}
		}
	}()
	return done
}
