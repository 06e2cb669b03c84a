package livetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// WSClient is a minimal graphql-transport-ws client for tests and the load
// benchmark: one connection, any number of subscriptions, pings answered.
type WSClient struct {
	conn *websocket.Conn
	mu   sync.Mutex
	subs map[string]chan json.RawMessage
	next int
	done chan struct{}
	err  error
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Dial connects to a GraphQL endpoint (http:// or ws:// URL) and completes
// connection_init with payload. The reader goroutine ends when ctx ends or Close.
func Dial(ctx context.Context, url string, payload any, header http.Header) (*WSClient, error) {
	url = strings.Replace(url, "http://", "ws://", 1)
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		return nil, fmt.Errorf("livetest: dial: %w", err)
	}
	c.SetReadLimit(1 << 24)
	p, _ := json.Marshal(payload)
	if err := wsjson.Write(ctx, c, wsMsg{Type: "connection_init", Payload: p}); err != nil {
		c.CloseNow()
		return nil, err
	}
	var ack wsMsg
	if err := wsjson.Read(ctx, c, &ack); err != nil || ack.Type != "connection_ack" {
		c.CloseNow()
		return nil, fmt.Errorf("livetest: no connection_ack: %v %s", err, ack.Type)
	}
	w := &WSClient{conn: c, subs: map[string]chan json.RawMessage{}, done: make(chan struct{})}
	go w.read(ctx)
	return w, nil
}

func (w *WSClient) read(ctx context.Context) {
	defer func() {
		w.mu.Lock()
		for id, ch := range w.subs {
			close(ch)
			delete(w.subs, id)
		}
		w.mu.Unlock()
		close(w.done)
	}()
	for {
		var m wsMsg
		if err := wsjson.Read(ctx, w.conn, &m); err != nil {
			w.err = err
			return
		}
		switch m.Type {
		case "ping":
			_ = wsjson.Write(ctx, w.conn, wsMsg{Type: "pong"})
		case "next", "error":
			w.mu.Lock()
			ch := w.subs[m.ID]
			w.mu.Unlock()
			if ch != nil {
				select {
				case ch <- m.Payload:
				case <-ctx.Done():
					return
				}
			}
		case "complete":
			w.mu.Lock()
			if ch := w.subs[m.ID]; ch != nil {
				close(ch)
				delete(w.subs, m.ID)
			}
			w.mu.Unlock()
		}
	}
}

// Subscribe starts a subscription; its payloads ({"data":...} or errors) arrive on
// the returned channel, which closes on complete or when the connection ends.
func (w *WSClient) Subscribe(ctx context.Context, query string, vars map[string]any, buf int) (<-chan json.RawMessage, error) {
	w.mu.Lock()
	w.next++
	id := strconv.Itoa(w.next)
	ch := make(chan json.RawMessage, buf)
	w.subs[id] = ch
	w.mu.Unlock()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := wsjson.Write(ctx, w.conn, wsMsg{ID: id, Type: "subscribe", Payload: p}); err != nil {
		return nil, err
	}
	return ch, nil
}

// Close closes the connection and waits for the reader.
func (w *WSClient) Close() error {
	err := w.conn.Close(websocket.StatusNormalClosure, "")
	<-w.done
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return nil
}
