// Command eventgen writes ami/events_gen.go: one struct per AMI event with a
// generated key switch, so decoding is a string switch per header instead of
// reflection. Run it with `go generate ./ami`.
//
// Input is ami-events.json (see README.md). Only event and field names are used:
// the descriptions in that file are Asterisk's documentation and stay out of the
// generated code.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"sort"
	"strings"
	"unicode"
)

// keyBufLen must match keyBufLen in ami/decode.go: keys longer than this can not
// match any documented field and go to Extra without being lowered.
const keyBufLen = 64

// commonHeaders are decoded into ami.Header for every event, whatever the
// documentation lists for the event itself.
var commonHeaders = map[string]bool{
	"event": true, "privilege": true, "timestamp": true, "actionid": true, "systemname": true,
}

// reservedGoNames are methods and fields every generated struct has; a
// documented field with one of these names is renamed <Type><Name> (CEL has both
// EventName and Extra).
var reservedGoNames = map[string]bool{
	"EventName": true, "EventHeader": true, "AppendFields": true, "ChannelSnapshot": true,
	"Extra": true, "Header": true, "Snapshot": true, "BridgeSnapshot": true,
}

type jsonField struct {
	Name     string `json:"name"`
	Group    string `json:"group"`
	Multiple bool   `json:"multiple"`
}

type jsonEvent struct {
	Name       string      `json:"name"`
	WireName   string      `json:"wire_name"`
	Documented bool        `json:"documented"`
	Fields     []jsonField `json:"fields"`
}

type jsonDoc struct {
	FieldGroups struct {
		Channel []jsonField `json:"channel_snapshot"`
		Bridge  []jsonField `json:"bridge_snapshot"`
	} `json:"field_groups"`
	Events       []jsonEvent `json:"events"`
	Undocumented []jsonEvent `json:"undocumented_events"`
}

// supplement lists shapes that the captures in testdata use but the 16+ XML
// documentation does not describe: Asterisk 1.8/11 events, and headers that
// real servers send beyond the documented set. Fields of events already in the
// JSON are added to that event; new names become new event types.
var supplement = []struct {
	name   string
	note   string // doc comment tail for new events
	fields []string
}{
	{"Dial", "as Asterisk 1.8 and 11 send it, with SubEvent Begin or End (12 and later send DialBegin, DialState and DialEnd)",
		[]string{"SubEvent", "Channel", "Destination", "CallerIDNum", "CallerIDName", "ConnectedLineNum", "ConnectedLineName", "UniqueID", "DestUniqueID", "Dialstring", "DialStatus"}},
	{"Bridge", "of Asterisk 1.8 and 11, with Bridgestate Link or Unlink (12 and later send BridgeCreate, BridgeEnter, BridgeLeave and BridgeDestroy)",
		[]string{"Bridgestate", "Bridgetype", "Channel1", "Channel2", "Uniqueid1", "Uniqueid2", "CallerID1", "CallerID2"}},
	{"Link", "of Asterisk 1.4 to 1.8: two channels were bridged",
		[]string{"Channel1", "Channel2", "Uniqueid1", "Uniqueid2", "CallerID1", "CallerID2"}},
	{"Unlink", "of Asterisk 1.4 to 1.8: two bridged channels were separated",
		[]string{"Channel1", "Channel2", "Uniqueid1", "Uniqueid2", "CallerID1", "CallerID2"}},
	{"Join", "of Asterisk 1.8 and 11: a caller joined a queue (12 and later send QueueCallerJoin)",
		[]string{"Channel", "CallerIDNum", "CallerIDName", "ConnectedLineNum", "ConnectedLineName", "Queue", "Position", "Count", "Uniqueid"}},
	{"Leave", "of Asterisk 1.8 and 11: a caller left a queue (12 and later send QueueCallerLeave)",
		[]string{"Channel", "Queue", "Count", "Position", "Uniqueid"}},
	{"Masquerade", "of Asterisk 11 and older: one channel took over another's identity",
		[]string{"Clone", "CloneState", "Original", "OriginalState"}},
	{"Transfer", "of Asterisk 11 and older, sent by chan_sip for REFER transfers (12 and later send BlindTransfer and AttendedTransfer)",
		[]string{"TransferMethod", "TransferType", "Channel", "Uniqueid", "SIP-Callid", "TargetChannel", "TargetUniqueid", "TransferExten", "TransferContext", "Transfer2Parking"}},
	{"MusicOnHold", "of Asterisk 1.8 and 11, with State Start or Stop (12 and later send MusicOnHoldStart and MusicOnHoldStop)",
		[]string{"State", "Channel", "UniqueID", "Class"}},
	// Headers of documented events that older or newer servers add.
	{"Rename", "", []string{"Channel", "Newname", "Uniqueid", "Oldname"}},
	{"Hold", "", []string{"Status"}}, // chan_sip in 1.8/11: Status On/Off instead of Unhold
	{"LocalBridge", "", []string{"Channel1", "Channel2", "Uniqueid1", "Uniqueid2"}},
	{"AgentCalled", "", []string{"AgentCalled", "AgentName", "ChannelCalling", "DestinationChannel", "Extension"}},
	{"AgentConnect", "", []string{"Member", "BridgedChannel"}},
	{"AgentComplete", "", []string{"Member"}},
	{"AttendedTransfer", "", []string{"IsExternal"}},
	{"HangupRequest", "", []string{"TechCause"}},
	{"CEL", "", []string{"Channel"}},
	{"QueueParams", "", []string{"Queue", "ServiceLevel", "Weight"}},
	// The docs list the peer address under the other event; Report<N>* stay in Extra.
	{"RTCPSent", "", []string{"From", "MES"}},
	{"RTCPReceived", "", []string{"To", "MES"}},
	{"StatusComplete", "", []string{"EventList", "ListItems"}},
	{"BridgeListItem", "", []string{"BridgeUniqueid", "BridgeType", "BridgeTechnology", "BridgeCreator", "BridgeName", "BridgeNumChannels", "BridgeVideoSourceMode", "BridgeVideoSource"}},
}

// field is one generated struct member and the wire keys it takes.
type field struct {
	goName   string
	wireKey  string // canonical casing, written by AppendFields
	multiple bool
	// group members: goName is the struct field holding the group (or "" when
	// embedded), sub the member inside it.
	sub string
}

type event struct {
	typeName string
	wireName string
	note     string
	fields   []field
	keys     map[string]bool // lower-cased wire keys, to merge duplicates
	groups   []group
}

type group struct {
	goName string // "" for embedded
	typ    string // Snapshot or BridgeSnapshot
}

func main() {
	in := flag.String("in", "internal/eventgen/ami-events.json", "AMI event documentation (JSON)")
	out := flag.String("out", "events_gen.go", "generated Go file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("eventgen: ")

	raw, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var doc jsonDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		log.Fatalf("%s: %v", *in, err)
	}
	src, err := generate(&doc)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

func generate(doc *jsonDoc) ([]byte, error) {
	chanGroup := doc.FieldGroups.Channel
	bridgeGroup := doc.FieldGroups.Bridge
	if len(chanGroup) == 0 || len(bridgeGroup) == 0 {
		return nil, fmt.Errorf("field_groups: channel_snapshot or bridge_snapshot missing")
	}

	byName := map[string]*event{}
	var order []*event
	get := func(wire string, note string) *event {
		l := strings.ToLower(wire)
		if e := byName[l]; e != nil {
			return e
		}
		e := &event{typeName: goIdent(wire), wireName: wire, note: note, keys: map[string]bool{}}
		byName[l] = e
		order = append(order, e)
		return e
	}

	add := func(e *event, jf []jsonField, undocumented bool) error {
		if undocumented && e.note == "" && len(e.fields) == 0 {
			e.note = "(not in the XML documentation; fields as the C source writes them)"
		}
		seenGroup := map[string]bool{}
		for _, g := range e.groups {
			seenGroup[g.typ+":"+g.goName] = true
		}
		for _, f := range jf {
			if f.Group != "" {
				kind, prefix, _ := strings.Cut(f.Group, ":")
				var members []jsonField
				var g group
				switch kind {
				case "channel_snapshot":
					members, g = chanGroup, group{goName: prefix, typ: "Snapshot"}
				case "bridge_snapshot":
					members, g = bridgeGroup, group{typ: "BridgeSnapshot"}
					if prefix != "" {
						g.goName = prefix + "Bridge"
					}
				default:
					return fmt.Errorf("event %s: unknown group %q", e.wireName, f.Group)
				}
				if seenGroup[g.typ+":"+g.goName] {
					continue
				}
				seenGroup[g.typ+":"+g.goName] = true
				e.groups = append(e.groups, g)
				for _, m := range members {
					if err := e.addField(field{goName: g.goName, sub: m.Name, wireKey: prefix + m.Name, multiple: m.Multiple}); err != nil {
						return err
					}
				}
				continue
			}
			if commonHeaders[strings.ToLower(f.Name)] {
				continue
			}
			if err := e.addField(field{goName: goIdent(f.Name), wireKey: f.Name, multiple: f.Multiple}); err != nil {
				return err
			}
		}
		return nil
	}

	for _, list := range [][]jsonEvent{doc.Events, doc.Undocumented} {
		for _, je := range list {
			wire := je.WireName
			if wire == "" {
				wire = je.Name
			}
			if err := add(get(wire, ""), je.Fields, !je.Documented); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range supplement {
		e := get(s.name, s.note)
		jf := make([]jsonField, len(s.fields))
		for i, n := range s.fields {
			jf[i] = jsonField{Name: n}
			if strings.HasPrefix(n, "Bridge") && s.name == "BridgeListItem" {
				jf[i].Group = "bridge_snapshot"
			}
		}
		if err := add(e, jf, false); err != nil {
			return nil, err
		}
	}

	sort.Slice(order, func(i, j int) bool { return order[i].typeName < order[j].typeName })
	types := map[string]string{}
	for _, e := range order {
		if prev, dup := types[e.typeName]; dup {
			return nil, fmt.Errorf("events %s and %s map to the same Go type %s", prev, e.wireName, e.typeName)
		}
		types[e.typeName] = e.wireName
		if err := e.checkNames(chanGroup, bridgeGroup); err != nil {
			return nil, err
		}
	}

	var b bytes.Buffer
	b.WriteString("// Code generated by eventgen. DO NOT EDIT.\n\n")
	b.WriteString("package ami\n\n")
	writeGroup(&b, "Snapshot", "Snapshot is the channel snapshot that Asterisk 12 and later write into every channel event,\n// with or without a prefix (Dest, Transferee, LocalOne ...). It is embedded in events that carry\n// the unprefixed snapshot and a named field for each prefixed one.", chanGroup)
	writeGroup(&b, "BridgeSnapshot", "BridgeSnapshot is the bridge snapshot of Bridge* events, with or without a prefix (To, From, Orig, Second).", bridgeGroup)
	for _, e := range order {
		writeEvent(&b, e)
	}
	writeDispatch(&b, order)

	src, err := format.Source(b.Bytes())
	if err != nil {
		return b.Bytes(), fmt.Errorf("format generated code: %w", err)
	}
	return src, nil
}

func (e *event) addField(f field) error {
	l := strings.ToLower(f.wireKey)
	if len(l) > keyBufLen {
		return fmt.Errorf("event %s: key %q longer than %d bytes", e.wireName, f.wireKey, keyBufLen)
	}
	if e.keys[l] {
		return nil // the same key documented twice, or by two modules
	}
	e.keys[l] = true
	if f.sub == "" && reservedGoNames[f.goName] {
		f.goName = e.typeName + f.goName
	}
	e.fields = append(e.fields, f)
	return nil
}

// checkNames rejects Go identifier clashes, including names promoted from the
// embedded Header, Snapshot and BridgeSnapshot, which Go would silently shadow.
func (e *event) checkNames(chanGroup, bridgeGroup []jsonField) error {
	names := map[string]string{"Event": "Header", "Privilege": "Header", "Timestamp": "Header", "ActionID": "Header", "SystemName": "Header", "Extra": "Extra", "Header": "Header"}
	claim := func(n, by string) error {
		if prev, ok := names[n]; ok && prev != by {
			return fmt.Errorf("event %s: Go name %s used by %s and %s", e.wireName, n, prev, by)
		}
		names[n] = by
		return nil
	}
	for _, g := range e.groups {
		if g.goName != "" {
			if err := claim(g.goName, "group "+g.goName); err != nil {
				return err
			}
			continue
		}
		if err := claim(g.typ, "embedded "+g.typ); err != nil {
			return err
		}
		members := chanGroup
		if g.typ == "BridgeSnapshot" {
			members = bridgeGroup
		}
		for _, m := range members {
			if err := claim(goIdent(m.Name), "embedded "+g.typ); err != nil {
				return err
			}
		}
	}
	for _, f := range e.fields {
		if f.sub != "" {
			continue
		}
		if err := claim(f.goName, "field "+f.wireKey); err != nil {
			return err
		}
	}
	return nil
}

func writeGroup(b *bytes.Buffer, name, doc string, members []jsonField) {
	fmt.Fprintf(b, "// %s\ntype %s struct {\n", doc, name)
	for _, m := range members {
		typ := "string"
		if m.Multiple {
			typ = "[]string"
		}
		fmt.Fprintf(b, "\t%s %s\n", goIdent(m.Name), typ)
	}
	b.WriteString("}\n\n")
}

// scalars returns the fields that need a presence bit, in order.
func (e *event) scalars() []field {
	var out []field
	for _, f := range e.fields {
		if !f.multiple {
			out = append(out, f)
		}
	}
	return out
}

func (f field) expr() string {
	switch {
	case f.sub == "":
		return "e." + f.goName
	case f.goName == "":
		return "e." + goIdent(f.sub)
	default:
		return "e." + f.goName + "." + goIdent(f.sub)
	}
}

func writeEvent(b *bytes.Buffer, e *event) {
	nbits := len(e.scalars())
	words := (nbits + 63) / 64
	if e.note != "" {
		b.WriteString(comment(fmt.Sprintf("%s is the AMI event %s %s.", e.typeName, e.wireName, e.note)))
	} else {
		fmt.Fprintf(b, "// %s is the AMI event %s.\n", e.typeName, e.wireName)
	}
	fmt.Fprintf(b, "type %s struct {\n\tHeader\n", e.typeName)
	for _, g := range e.groups {
		if g.goName == "" {
			fmt.Fprintf(b, "\t%s\n", g.typ)
		}
	}
	for _, g := range e.groups {
		if g.goName != "" {
			fmt.Fprintf(b, "\t%s %s\n", g.goName, g.typ)
		}
	}
	for _, f := range e.fields {
		if f.sub != "" {
			continue
		}
		typ := "string"
		if f.multiple {
			typ = "[]string"
		}
		if f.goName != goIdent(f.wireKey) {
			fmt.Fprintf(b, "\t// %s holds the %s header.\n", f.goName, f.wireKey)
		}
		fmt.Fprintf(b, "\t%s %s\n", f.goName, typ)
	}
	b.WriteString("\t// Extra keeps headers outside the documented set and repeats of single-valued ones, in wire order.\n\tExtra Message\n")
	if words > 0 {
		fmt.Fprintf(b, "\thas [%d]uint64\n", words)
	}
	b.WriteString("}\n\n")

	fmt.Fprintf(b, "// EventName returns %q.\nfunc (*%s) EventName() string { return %q }\n\n", e.wireName, e.typeName, e.wireName)
	fmt.Fprintf(b, "// EventHeader returns the common headers.\nfunc (e *%s) EventHeader() *Header { return &e.Header }\n\n", e.typeName)

	// set: one switch over lower-cased keys.
	if len(e.fields) == 0 {
		fmt.Fprintf(b, "func (e *%s) set(k []byte, v string) bool { return e.Header.set(k, v) }\n\n", e.typeName)
	} else {
		writeSet(b, e)
	}

	fmt.Fprintf(b, "func (e *%s) decode(m Message) {\n\tvar buf [keyBufLen]byte\n\tfor _, f := range m {\n\t\tif !e.set(lowerKey(&buf, f.Key), f.Value) {\n\t\t\te.Extra = append(e.Extra, f)\n\t\t}\n\t}\n}\n\n", e.typeName)

	fmt.Fprintf(b, "// AppendFields appends the event in wire form: common headers, the fields that were\n// received or are non-empty, then Extra.\nfunc (e *%s) AppendFields(dst Message) Message {\n\tdst = e.Header.appendFields(dst, %q)\n", e.typeName, e.wireName)
	bit := 0
	for _, f := range e.fields {
		if f.multiple {
			fmt.Fprintf(b, "\tdst = appendMulti(dst, %q, %s)\n", f.wireKey, f.expr())
			continue
		}
		fmt.Fprintf(b, "\tdst = appendField(dst, %q, %s, e.has[%d]&(1<<%d) != 0)\n", f.wireKey, f.expr(), bit/64, bit%64)
		bit++
	}
	b.WriteString("\treturn append(dst, e.Extra...)\n}\n\n")
}

func writeDispatch(b *bytes.Buffer, order []*event) {
	b.WriteString("// decodeKnown decodes m into the type for the lower-cased event name, or returns nil.\nfunc decodeKnown(name []byte, m Message) TypedEvent {\n\tswitch string(name) {\n")
	for _, e := range order {
		fmt.Fprintf(b, "\tcase %q:\n\t\te := new(%s)\n\t\te.decode(m)\n\t\treturn e\n", strings.ToLower(e.wireName), e.typeName)
	}
	b.WriteString("\t}\n\treturn nil\n}\n\n")
	b.WriteString("// eventNames lists the wire names of every generated event type.\nvar eventNames = []string{\n")
	for _, e := range order {
		fmt.Fprintf(b, "\t%q,\n", e.wireName)
	}
	b.WriteString("}\n")
}

// goIdent turns an AMI name into an exported Go identifier: "AOC-D" -> "AOCD",
// "Cause-txt" -> "CauseTxt", "100rel" -> "Rel100".
func goIdent(s string) string {
	var parts []string
	cur := strings.Builder{}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			cur.WriteRune(r)
			continue
		}
		if cur.Len() > 0 {
			parts = append(parts, cur.String())
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	id := strings.Join(parts, "")
	if id == "" {
		return "X"
	}
	if id[0] >= '0' && id[0] <= '9' {
		i := strings.IndexFunc(id, func(r rune) bool { return !unicode.IsDigit(r) })
		if i < 0 {
			return "N" + id
		}
		id = strings.ToUpper(id[i:i+1]) + id[i+1:] + id[:i]
	}
	return id
}

func writeSet(b *bytes.Buffer, e *event) {
	fmt.Fprintf(b, "func (e *%s) set(k []byte, v string) bool {\n\tswitch string(k) {\n", e.typeName)
	b.WriteString("\tcase \"event\", \"privilege\", \"timestamp\", \"actionid\", \"systemname\":\n\t\treturn e.Header.set(k, v)\n")
	bit := 0
	for _, f := range e.fields {
		fmt.Fprintf(b, "\tcase %q:\n", strings.ToLower(f.wireKey))
		if f.multiple {
			fmt.Fprintf(b, "\t\t%s = append(%s, v)\n\t\treturn true\n", f.expr(), f.expr())
			continue
		}
		fmt.Fprintf(b, "\t\treturn setOnce(&e.has[%d], %d, &%s, v)\n", bit/64, bit%64, f.expr())
		bit++
	}
	b.WriteString("\t}\n\treturn false\n}\n\n")
}

// comment wraps text into // lines of at most about 100 columns.
func comment(text string) string {
	var b strings.Builder
	line := "//"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 100 && line != "//" {
			b.WriteString(line + "\n")
			line = "//"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
	return b.String()
}
