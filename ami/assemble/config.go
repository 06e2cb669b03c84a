package assemble

import (
	"strings"
)

// Operator is a person who answers calls, as configured or learned from queue membership.
type Operator struct {
	Exten string // internal number, e.g. "1001"
	Name  string // display name, e.g. "Agent One"
	// Device is the endpoint the operator's phone registers as ("PJSIP/1001", "SIP/150010001").
	Device string
	// Interfaces are extra queue member interfaces that mean this operator
	// ("Local/1001@agents/n"). The device itself always counts.
	Interfaces []string
}

// QueueExten maps a dialplan extension to a queue, for classifying dialled numbers.
type QueueExten struct {
	Exten string
	Queue string
}

// Config describes one Asterisk server. The assembler is per server (DESIGN.md), so every
// identifier in here is local to that server.
type Config struct {
	Server    string
	Operators []Operator
	// LearnOperators adds queue members seen in QueueMemberAdded/QueueMember/AgentCalled
	// to the known operators (the usual setting: queue members are operators).
	LearnOperators bool
	// TrunkPrefixes identify trunk channels by the start of the channel name, e.g.
	// "PJSIP/trunk", "SIP/voipgrid-siproute-docker". Compared up to the channel suffix.
	TrunkPrefixes []string
	// TrunkContexts identify trunk channels by the context they were created in
	// (inbound: "from-trunk").
	TrunkContexts []string
	// InternalContexts are the contexts internal phones' channels are created in
	// ("from-internal"). When set, a channel that is neither trunk nor operator and was
	// created in another context is classified KindUnknown instead of KindInternal (an
	// endpoint nobody configured); the assembler treats both as non-trunk parties.
	InternalContexts []string
	// Queues and IVRs classify dialled extensions (ClassifyExten).
	Queues []QueueExten
	IVRs   []string
	// DIDs are the server's own public numbers (trunk numbers).
	DIDs []string
	// Variables are channel variables copied into Call.Custom when a VarSet (or a
	// ChanVariable line) sets them. Matched case-sensitively, like Asterisk does;
	// a leading "__" or "_" (inheritance marks) is ignored.
	Variables []string
	// UserEvents are UserEvent names whose headers are copied into Call.Custom as
	// "<UserEvent>.<Header>".
	UserEvents []string
}

// Kind classifies a party or an extension.
type Kind int

// Party kinds.
const (
	KindUnknown  Kind = iota
	KindOperator      // a known operator's phone or exten
	KindInternal      // an internal phone that is not a known operator
	KindTrunk         // the carrier
	KindQueue         // a queue extension
	KindIVR           // an IVR extension
	KindLocal         // a Local channel half: a proxy, never a party by itself
	KindDID           // one of our public numbers
)

func (k Kind) String() string {
	return [...]string{"unknown", "operator", "internal", "trunk", "queue", "ivr", "local", "did"}[k]
}

// directory is the compiled form of Config, with operators learned at run time.
type directory struct {
	cfg         Config
	trunkPfx    []string
	trunkCtx    map[string]bool
	internalCtx map[string]bool
	byDevice    map[string]*Operator // "PJSIP/1001" and member interfaces
	byExten     map[string]*Operator
	queues      map[string]string
	ivrs        map[string]bool
	dids        map[string]bool
	vars        map[string]bool
	userEvents  map[string]bool
}

func newDirectory(cfg Config) *directory {
	d := &directory{
		cfg:         cfg,
		trunkPfx:    cfg.TrunkPrefixes,
		trunkCtx:    set(cfg.TrunkContexts),
		internalCtx: set(cfg.InternalContexts),
		byDevice:    map[string]*Operator{},
		byExten:     map[string]*Operator{},
		queues:      map[string]string{},
		ivrs:        set(cfg.IVRs),
		dids:        set(cfg.DIDs),
		vars:        set(cfg.Variables),
		userEvents:  set(cfg.UserEvents),
	}
	for i := range cfg.Operators {
		op := cfg.Operators[i]
		d.addOperator(&op)
	}
	for _, q := range cfg.Queues {
		d.queues[q.Exten] = q.Queue
	}
	return d
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (d *directory) addOperator(op *Operator) {
	if op.Exten == "" && op.Device != "" {
		op.Exten = resourceOf(op.Device)
	}
	if op.Device != "" {
		d.byDevice[op.Device] = op
	}
	for _, i := range op.Interfaces {
		d.byDevice[i] = op
	}
	if op.Exten != "" {
		d.byExten[op.Exten] = op
	}
}

// learn records a queue member seen in a member or agent event. The state interface (or
// the interface itself when it is a device) names the phone; the member name is the
// person.
func (d *directory) learn(iface, stateIface, name string) {
	if !d.cfg.LearnOperators || iface == "" {
		return
	}
	if op := d.byDevice[iface]; op != nil {
		if op.Name == "" {
			op.Name = name
		}
		return
	}
	dev := stateIface
	if dev == "" && !strings.HasPrefix(iface, "Local/") {
		dev = iface
	}
	if dev == "" {
		// Local/1001@agents/n without a state interface: the phone is reached as
		// PJSIP/<exten> in the lab; we cannot know the technology, so keep the interface.
		op := &Operator{Exten: localExten(iface), Name: name, Interfaces: []string{iface}}
		d.addOperator(op)
		return
	}
	if op := d.byDevice[dev]; op != nil {
		op.Interfaces = append(op.Interfaces, iface)
		d.byDevice[iface] = op
		if op.Name == "" {
			op.Name = name
		}
		return
	}
	op := &Operator{Device: dev, Name: name}
	if iface != dev {
		op.Interfaces = []string{iface}
	}
	d.addOperator(op)
}

// channelKind classifies a channel by its device (endpoint) and creation context.
func (d *directory) channelKind(device, context string) Kind {
	if strings.HasPrefix(device, "Local/") {
		return KindLocal
	}
	for _, p := range d.trunkPfx {
		if device == p || strings.HasPrefix(device, p) && (len(device) == len(p) || device[len(p)] == '-') {
			return KindTrunk
		}
	}
	if d.byDevice[device] != nil {
		return KindOperator
	}
	if d.trunkCtx[context] {
		return KindTrunk
	}
	if len(d.internalCtx) > 0 && context != "" && !d.internalCtx[context] {
		return KindUnknown
	}
	return KindInternal
}

// ClassifyExten says what a dialled extension is on this server: a queue, an IVR, an
// operator, one of our DIDs, or unknown (typically an external number).
func (d *directory) ClassifyExten(exten string) Kind {
	switch {
	case exten == "":
		return KindUnknown
	case d.queues[exten] != "":
		return KindQueue
	case d.ivrs[exten]:
		return KindIVR
	case d.byExten[exten] != nil:
		return KindOperator
	case d.dids[exten]:
		return KindDID
	}
	return KindUnknown
}

// ClassifyExten classifies an extension with cfg (for callers outside an Assembler).
func ClassifyExten(cfg Config, exten string) Kind { return newDirectory(cfg).ClassifyExten(exten) }

// ClassifyChannel classifies a channel name created in context with cfg.
func ClassifyChannel(cfg Config, channel, context string) Kind {
	return newDirectory(cfg).channelKind(deviceOf(channel), context)
}

// deviceOf returns the endpoint part of a channel name: "PJSIP/1001-00000002" ->
// "PJSIP/1001", "Local/1001@agents-00000000;1" -> "Local/1001@agents",
// "SIP/150010001-0000001e<MASQ>" -> "SIP/150010001". Channel names are never keys
// (their counters repeat); the endpoint identifies the party.
func deviceOf(name string) string {
	if i := strings.IndexByte(name, '<'); i > 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, ';'); i > 0 {
		name = name[:i]
	}
	slash := strings.IndexByte(name, '/')
	if i := strings.LastIndexByte(name, '-'); i > slash && slash >= 0 {
		return name[:i]
	}
	return name
}

// resourceOf returns what follows the technology: "PJSIP/1001" -> "1001".
func resourceOf(device string) string {
	if i := strings.IndexByte(device, '/'); i >= 0 {
		return device[i+1:]
	}
	return device
}

// localExten returns the extension of a Local channel or interface:
// "Local/1001@agents/n" -> "1001".
func localExten(s string) string {
	s = strings.TrimPrefix(s, "Local/")
	if i := strings.IndexByte(s, '@'); i >= 0 {
		return s[:i]
	}
	return s
}

// numberOfDialString extracts the number from a Dial() string: "0611223344@trunk" ->
// "0611223344", "PJSIP/0611223344@trunk" -> "0611223344", "+3126@voipgrid" -> "+3126".
func numberOfDialString(s string) string {
	if i := strings.IndexByte(s, '/'); i >= 0 && !strings.Contains(s[:i], "@") {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, "@/,"); i >= 0 {
		s = s[:i]
	}
	return s
}
