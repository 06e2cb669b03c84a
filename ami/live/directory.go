package live

import (
	"sync"
	"time"
)

// QueueRef is what Linkage knows about a queue of one server.
type QueueRef struct {
	ID          int
	Location    *time.Location // nil: the State's default
	SLThreshold time.Duration  // 0: 20 s
}

// Directory resolves a server's queue names and member interfaces to Linkage ids. The
// lead wires it to the database; it is called from Apply, so it must be cheap and must
// not do I/O per call (cache, refresh in the background).
type Directory interface {
	Queue(server int, name string) (QueueRef, bool)
	// OperatorID resolves a queue member interface ("Local/1001@agents/n") or a device
	// ("PJSIP/1001") to an operator id.
	OperatorID(server int, iface string) (int, bool)
}

// StaticDirectory is a Directory held in memory, safe for concurrent use; Set* replace
// entries. Useful in tests and as the cache a DB-backed directory refreshes.
type StaticDirectory struct {
	mu        sync.RWMutex
	queues    map[skey]QueueRef
	operators map[skey]int
}

type skey struct {
	server int
	name   string
}

// NewStaticDirectory returns an empty directory.
func NewStaticDirectory() *StaticDirectory {
	return &StaticDirectory{queues: map[skey]QueueRef{}, operators: map[skey]int{}}
}

// SetQueue records a queue.
func (d *StaticDirectory) SetQueue(server int, name string, ref QueueRef) {
	d.mu.Lock()
	d.queues[skey{server, name}] = ref
	d.mu.Unlock()
}

// SetOperator records an interface (or device) of an operator.
func (d *StaticDirectory) SetOperator(server int, iface string, id int) {
	d.mu.Lock()
	d.operators[skey{server, iface}] = id
	d.mu.Unlock()
}

// Queue implements Directory.
func (d *StaticDirectory) Queue(server int, name string) (QueueRef, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.queues[skey{server, name}]
	return r, ok
}

// OperatorID implements Directory.
func (d *StaticDirectory) OperatorID(server int, iface string) (int, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.operators[skey{server, iface}]
	return id, ok
}
