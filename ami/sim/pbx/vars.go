package pbx

import (
	"strconv"
	"strings"
	"time"
)

// Channel variables that Asterisk announces with VarSet while a call runs. Only the
// ones an assembler may use are modelled: the Dial result variables, BRIDGEPEER, the
// queue's own, MixMonitor's file name and QUEUESTATUS. RTPAUDIOQOS* and dialplan
// variables of the lab (such as __CALLTYPE) are left out.

// dialVars are cleared by app_dial when a Dial starts (a1: Local ;2 before it dials).
var dialVars = [...]string{"DIALSTATUS", "DIALEDPEERNUMBER", "DIALEDPEERNAME", "ANSWEREDTIME", "ANSWEREDTIME_MS",
	"DIALEDTIME", "DIALEDTIME_MS", "RINGTIME", "RINGTIME_MS", "PROGRESSTIME", "PROGRESSTIME_MS"}

func (p *PBX) dialStart(c *channel) {
	c.dialStart, c.dialAnswer = p.now, time.Time{}
	for _, v := range dialVars {
		p.varSet(c, v, "")
	}
}

func msStr(d time.Duration) string  { return strconv.FormatInt(int64(d/time.Millisecond), 10) }
func secStr(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// dialEndAnswer writes app_dial's DialEnd ANSWER. By then the answered callee has
// left the extension app_dial gave it: its Exten is empty from here on (a1).
func (p *PBX) dialEndAnswer(caller, callee *channel) {
	callee.exten = ""
	p.twoEv("DialEnd", clCall, caller, callee, f("DialStatus", "ANSWER"))
}

// dialAnswered is app_dial's bookkeeping when the dialled party picks up.
func (p *PBX) dialAnswered(c, peer *channel, number string) {
	c.dialAnswer = p.now
	ring := p.now.Sub(c.dialStart)
	p.varSet(c, "RINGTIME", secStr(ring))
	p.varSet(c, "RINGTIME_MS", msStr(ring))
	p.varSet(c, "DIALSTATUS", "ANSWER")
	p.varSet(c, "DIALEDPEERNAME", peer.name)
	p.varSet(c, "DIALEDPEERNUMBER", number)
}

// dialDone is app_dial returning: the times and the final status.
func (p *PBX) dialDone(c *channel, status string) {
	if c.dialStart.IsZero() || c.dead {
		return
	}
	if !c.dialAnswer.IsZero() {
		talk := p.now.Sub(c.dialAnswer)
		p.varSet(c, "ANSWEREDTIME", secStr(talk))
		p.varSet(c, "ANSWEREDTIME_MS", msStr(talk))
	}
	all := p.now.Sub(c.dialStart)
	p.varSet(c, "DIALEDTIME", secStr(all))
	p.varSet(c, "DIALEDTIME_MS", msStr(all))
	p.varSet(c, "DIALSTATUS", status)
	c.dialStart = time.Time{}
}

// callID is the SIP Call-ID of a PJSIP channel (BRIDGEPVTCALLID of its peer).
func (p *PBX) callID(c *channel) string {
	if c.callID == "" {
		c.callID = p.newBridgeID() // a UUID, as PJSIP generates them
	}
	return c.callID
}

// bridgePeers sets BRIDGEPEER (and BRIDGEPVTCALLID when the peer is a PJSIP channel)
// on both members once a two-party bridge is complete.
func (p *PBX) bridgePeers(b *bridge) {
	if len(b.members) != 2 {
		return
	}
	x, y := b.members[0], b.members[1]
	for _, pr := range [2][2]*channel{{x, y}, {y, x}} {
		c, peer := pr[0], pr[1]
		p.varSet(c, "BRIDGEPEER", peer.name)
		if strings.HasPrefix(peer.name, "PJSIP/") {
			p.varSet(c, "BRIDGEPVTCALLID", p.callID(peer))
			c.hasPvtCallID = true
		}
	}
}

// bridgeUnpeer clears BRIDGEPEER on a channel leaving a bridge it shared.
func (p *PBX) bridgeUnpeer(c *channel) {
	p.varSet(c, "BRIDGEPEER", "")
	if c.hasPvtCallID {
		p.varSet(c, "BRIDGEPVTCALLID", "")
		c.hasPvtCallID = false
	}
}

// queueTimes are the variables Queue() sets on the caller when the call it
// connected ends (20.19+/22.9+).
func (p *PBX) queueTimes(qc *qcall) {
	talk, all := p.now.Sub(qc.answeredAt), p.now.Sub(qc.joined)
	p.varSet(qc.caller, "ANSWEREDTIME", secStr(talk))
	p.varSet(qc.caller, "ANSWEREDTIME_MS", msStr(talk))
	p.varSet(qc.caller, "DIALEDTIME", secStr(all))
	p.varSet(qc.caller, "DIALEDTIME_MS", msStr(all))
}

func (p *PBX) varSet(c *channel, name, value string) {
	p.chanEv("VarSet", clDialplan, c, f("Variable", name), f("Value", value))
}

func (p *PBX) newexten(c *channel, prio int, app, data string) {
	c.prio = prio
	p.chanEv("Newexten", clDialplan, c, f("Extension", c.exten), f("Application", app), f("AppData", data))
}

// Caller ID and connected line. Asterisk announces each change with NewCallerid or
// NewConnectedLine; the rules below are the ones the lab captures show.

func (p *PBX) newCallerID(c *channel, num, name string) {
	c.cidNum, c.cidName = num, name
	p.chanEv("NewCallerid", clCall, c, f("CID-CallingPres", "0 (Presentation Allowed, Not Screened)"))
}

func (p *PBX) connectedLine(c *channel, num, name string) {
	c.connNum, c.connName = num, name
	p.chanEv("NewConnectedLine", clCall, c)
}

// dialLine is what app_dial does around a single-callee DialBegin: the callee gets
// the caller as its connected line before the dial, the caller gets the callee
// right after it (h1, f1, g1, d1).
func (p *PBX) dialLine(caller, callee *channel, dialString string) {
	callee.exten = caller.exten // app_dial copies the caller's extension to the new channel
	p.connectedLine(callee, caller.cidNum, caller.cidName)
	p.twoEv("DialBegin", clCall, caller, callee, f("DialString", dialString))
	p.connectedLine(caller, callee.cidNum, callee.cidName)
}
