package pbx

import (
	"strings"
	"time"
)

// Outcome of a dialed leg in internal and outbound calls.
const (
	Answered = iota
	Busy
	NoAnswer
)

// Direct is a call from an operator's phone: to another extension (internal) or,
// when Number starts with 0, through the first trunk (outbound, the leading 0 is the
// line prefix as in the lab dialplan).
type Direct struct {
	From   string // caller endpoint, e.g. "1001"
	Number string // "1002" or "00611223344"
	// Outcome is Answered, Busy (486 from the callee) or NoAnswer (Dial timeout 20 s).
	Outcome int
	Ring    time.Duration // ring time before answer
	Talk    time.Duration
	// CalleeHangsUp ends the call from the far side.
	CalleeHangsUp bool
	// Hold: the callee puts the caller on hold (the f1 capture) After answer for For.
	Hold []Hold

	originated *channel // set by Originate: the first leg already exists and is up
}

// Call schedules a call from an operator's phone after delay.
func (p *PBX) Call(delay time.Duration, d Direct) {
	p.after(delay, func() { p.direct(d) })
}

func (p *PBX) direct(d Direct) {
	var c *channel
	if d.originated != nil {
		c = d.originated
		if c.dead {
			return
		}
	} else {
		if p.devState("PJSIP/"+d.From) != devNotInUse {
			return // the phone is busy; a person can't start a second call
		}
		c = p.newPJSIP(d.From, nil, true)
		if op := p.ops[d.From]; op != nil {
			c.cidNum, c.cidName = d.From, op.Name
		}
		c.context, c.exten, c.dnid = "from-internal", d.Number, d.Number
		p.newchannel(c)
	}
	outbound := strings.HasPrefix(d.Number, "0") && len(p.cfg.Trunks) > 0
	var x *channel
	var dialString string
	if outbound {
		p.newexten(c, 1, "NoOp", "Outbound via trunk")
		p.newexten(c, 2, "Set", "CALLERID(num)=5551000")
		p.newCallerID(c, "5551000", c.cidName) // the lab dialplan presents the main number on the trunk
		trunk := p.cfg.Trunks[0].Endpoint
		dialString = d.Number[1:] + "@" + trunk
		c.app, c.appData = "Dial", "PJSIP/"+dialString+",30,tT"
		p.newexten(c, 3, "Dial", c.appData)
		p.dialStart(c)
		x = p.newPJSIP(trunk, c, false)
		x.cidNum, x.cidName = "<unknown>", "<unknown>"
	} else if p.ops[d.Number] == nil {
		// Dial to an endpoint that doesn't exist: no channel is created, Dial
		// returns CHANUNAVAIL and the dialplan hangs up.
		p.newexten(c, 1, "NoOp", "Internal call")
		p.newexten(c, 2, "Dial", "PJSIP/"+d.Number+",20,tT")
		p.varSet(c, "DIALSTATUS", "CHANUNAVAIL")
		p.newexten(c, 3, "Hangup", "")
		p.hangupRequest(c, 16, true)
		p.hangup(c, 16)
		return
	} else {
		p.newexten(c, 1, "NoOp", "Internal call")
		c.app, c.appData = "Dial", "PJSIP/"+d.Number+",20,tT"
		p.newexten(c, 2, "Dial", c.appData)
		dialString = d.Number
		p.dialStart(c)
		x = p.newPJSIP(d.Number, c, false)
	}
	p.newchannel(x)
	p.varSet(x, "DIALEDPEERNUMBER", dialString)
	if outbound {
		// The trunk leg shows the dialled number as its caller ID (g1).
		x.connNum, x.connName = c.cidNum, c.cidName
		x.exten = c.exten
		p.newCallerID(x, d.Number, "<unknown>")
	}
	p.dialLine(c, x, dialString)
	if !outbound && p.devState("PJSIP/"+d.Number) != devNotInUse && d.Outcome == Answered {
		d.Outcome = Busy // the callee is on another call and has no call waiting
	}
	if d.Outcome == Busy {
		p.after(2*time.Millisecond, func() {
			// h2: 486 Busy Here from the callee; the caller's Hangup repeats cause 17.
			tc := f("TechCause", "486")
			p.chanEv("HangupRequest", clCall, x, f("Cause", "17"), tc)
			p.twoEv("DialEnd", clCall, c, x, f("DialStatus", "BUSY"))
			p.hangup(x, 17, tc)
			p.dialDone(c, "BUSY")
			p.hangupRequest(c, 16, true)
			p.hangup(c, 17, tc)
		})
		return
	}
	p.after(3*time.Millisecond, func() {
		if x.dead {
			return
		}
		p.setState(x, stRinging)
		p.twoEv("DialState", clCall, c, x, f("DialStatus", "RINGING"))
	})
	c.onHangup = func(cause int) { // caller gives up while it rings
		if x.bridge != nil {
			return
		}
		p.hangupRequest(c, cause, false)
		p.twoEv("DialEnd", clCall, c, x, f("DialStatus", "CANCEL"))
		p.hangup(x, 0)
		p.dialDone(c, "CANCEL")
		p.hangup(c, cause)
	}
	x.onHangup = func(cause int) { p.calleeGone(c, x, cause) }
	if d.Outcome == NoAnswer {
		p.after(20*time.Second, func() {
			if c.dead || x.dead {
				return
			}
			p.twoEv("DialEnd", clCall, c, x, f("DialStatus", "NOANSWER"))
			p.hangup(x, 0) // [UNSURE] cause of a Dial-timeout leg; app_queue uses 0 the same way
			p.dialDone(c, "NOANSWER")
			p.hangupRequest(c, 16, true)
			p.hangup(c, 16)
		})
		return
	}
	p.after(max(d.Ring, 10*time.Millisecond), func() {
		if c.dead || x.dead {
			return
		}
		p.setState(x, stUp)
		p.dialEndAnswer(c, x)
		p.dialAnswered(c, x, dialString)
		if c.state != stUp {
			p.setState(c, stUp)
		}
		b := p.bridgeCreate()
		p.bridgeEnter(b, x, nil)
		p.bridgeEnter(b, c, nil)
		ended := false
		endCaller := func(cause int) {
			if ended {
				return
			}
			ended = true
			p.hangupRequest(c, cause, false)
			p.endBridged(c, x, b)
		}
		endCallee := func(cause int) {
			if ended {
				return
			}
			ended = true
			p.hangupRequest(x, cause, false)
			p.endBridgedCallee(c, x, b)
		}
		c.onHangup, x.onHangup = endCaller, endCallee
		for _, h := range d.Hold {
			p.after(h.After, func() {
				if ended {
					return
				}
				p.hold(x, c)
				p.after(h.For, func() {
					if !ended {
						p.unhold(x, c)
					}
				})
			})
		}
		p.after(max(d.Talk, time.Second), func() {
			if d.CalleeHangsUp {
				endCallee(16)
			} else {
				endCaller(16)
			}
		})
	})
}

// calleeGone: the dialled phone hangs up (declines) before answering. Dial reports
// BUSY for cause 17 and NOANSWER otherwise, and the dialplan hangs the caller up.
func (p *PBX) calleeGone(c, x *channel, cause int) {
	if x.dead || x.bridge != nil {
		return
	}
	status := "NOANSWER"
	if cause == 17 {
		status = "BUSY"
	}
	p.hangupRequest(x, cause, false)
	p.twoEv("DialEnd", clCall, c, x, f("DialStatus", status))
	p.hangup(x, cause)
	p.dialDone(c, status)
	p.hangupRequest(c, 16, true)
	p.hangup(c, cause)
}

// hangupChannel is the AMI Hangup action's effect on one channel.
func (p *PBX) hangupChannel(c *channel, cause int) {
	if c.dead {
		return
	}
	if c.onHangup != nil {
		h := c.onHangup
		c.onHangup = nil
		h(cause)
		return
	}
	// A channel with no owning flow: request and hang up; a bridge it leaves behind
	// ends, as a two-party bridge does when one side goes.
	p.hangupRequest(c, cause, false)
	b := c.bridge
	if b == nil {
		p.hangup(c, cause)
		return
	}
	p.bridgeLeave(b, c)
	p.hangup(c, cause)
	for len(b.members) > 0 {
		m := b.members[0]
		p.bridgeLeave(b, m)
		p.hangupRequest(m, 16, true)
		p.hangup(m, 16)
	}
	p.bridgeDestroy(b)
}
