package pbx

import (
	"strconv"
	"time"
)

// startTraffic schedules the random processes of the model: inbound arrivals,
// operator calls and operator breaks. Each is a Poisson process whose rate follows
// the hourly curve; thinning against the peak rate keeps it exact and seedable.
func (p *PBX) startTraffic() {
	if p.cfg.CallsPerHour > 0 && len(p.cfg.DIDs) > 0 {
		p.poisson(p.cfg.CallsPerHour, p.randomInbound)
	}
	if p.cfg.OutboundPerHour > 0 && len(p.cfg.Trunks) > 0 && len(p.cfg.OutboundNumbers) > 0 {
		p.poisson(p.cfg.OutboundPerHour, p.randomOutbound)
	}
	if p.cfg.InternalPerHour > 0 && len(p.cfg.Operators) > 1 {
		p.poisson(p.cfg.InternalPerHour, p.randomInternal)
	}
	for _, q := range p.qorder {
		for _, m := range q.members {
			if op := p.opOf(m); op != nil && op.PausesPerHour > 0 && len(op.PauseReasons) > 0 {
				p.scheduleBreak(m, op)
			}
		}
	}
}

func (p *PBX) curve(t time.Time) float64 {
	loc := p.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	var zero [24]float64
	if p.cfg.HourlyCurve == zero {
		return 1
	}
	return p.cfg.HourlyCurve[t.In(loc).Hour()]
}

func (p *PBX) poisson(peak float64, fire func()) {
	mean := time.Duration(float64(time.Hour) / peak)
	var next func()
	next = func() {
		if p.rng.Float64() < p.curve(p.now) {
			fire()
		}
		p.after(max(p.expDur(mean), time.Millisecond), next)
	}
	p.after(max(p.expDur(mean), time.Millisecond), next)
}

func (p *PBX) randomInbound() {
	total := 0.0
	for _, d := range p.cfg.DIDs {
		total += weight(d)
	}
	x := p.rng.Float64() * total
	did := p.cfg.DIDs[len(p.cfg.DIDs)-1]
	for _, d := range p.cfg.DIDs {
		if x -= weight(d); x < 0 {
			did = d
			break
		}
	}
	spec := Inbound{
		DID:          did.Number,
		Caller:       "06" + strconv.Itoa(10000000+p.rng.IntN(89999999)),
		Patience:     max(p.expDur(p.cfg.MeanPatience), 3*time.Second),
		Talk:         max(p.expDur(p.cfg.MeanTalk), 5*time.Second),
		AgentHangsUp: p.rng.Float64() < p.cfg.AgentHangupProb,
		HangupInIVR:  p.rng.Float64() < 0.03, // callers who give up on the menu
	}
	if p.rng.Float64() < p.cfg.HoldProb {
		at := time.Duration(p.rng.Float64() * float64(spec.Talk) / 2)
		spec.Hold = []Hold{{After: at, For: p.jitter(30 * time.Second)}}
	}
	if n := len(p.cfg.TransferTargets); n > 0 {
		r := p.rng.Float64()
		switch {
		case r < p.cfg.BlindTransferProb:
			spec.Transfer = &Transfer{After: spec.Talk / 2, Target: p.cfg.TransferTargets[p.rng.IntN(n)], TargetAnswer: p.jitter(4 * time.Second), Talk: p.jitter(time.Minute)}
		case r < p.cfg.BlindTransferProb+p.cfg.AttendedTransferProb:
			spec.Transfer = &Transfer{Attended: true, Refer: p.rng.IntN(2) == 0, After: spec.Talk / 2, Target: p.cfg.TransferTargets[p.rng.IntN(n)], TargetAnswer: p.jitter(4 * time.Second),
				Consult: p.jitter(20 * time.Second), Talk: p.jitter(time.Minute)}
		}
	}
	// Each ring is a fresh decision by the operator behind the member.
	spec.decide = func(m *member, _ int) ringOutcome {
		op := p.opOf(m)
		if op == nil {
			return ringOutcome{}
		}
		r := p.rng.Float64()
		switch {
		case r < op.BusyProb:
			return ringOutcome{after: p.jitter(time.Second), busy: true}
		case r < op.BusyProb+op.AnswerProb:
			return ringOutcome{after: p.jitter(op.AnswerDelay), answer: true}
		}
		return ringOutcome{}
	}
	p.arrive(spec)
}

func weight(d DID) float64 {
	if d.Weight <= 0 {
		return 1
	}
	return d.Weight
}

// idleOperator picks a random operator whose phone is free.
func (p *PBX) idleOperator(except string) *Operator {
	n := len(p.cfg.Operators)
	off := p.rng.IntN(n)
	for i := 0; i < n; i++ {
		op := &p.cfg.Operators[(off+i)%n]
		if op.Endpoint != except && p.devState("PJSIP/"+op.Endpoint) == devNotInUse {
			return op
		}
	}
	return nil
}

func (p *PBX) randomOutbound() {
	op := p.idleOperator("")
	if op == nil {
		return
	}
	d := Direct{From: op.Endpoint, Number: "0" + p.cfg.OutboundNumbers[p.rng.IntN(len(p.cfg.OutboundNumbers))],
		Ring: p.jitter(6 * time.Second), Talk: max(p.expDur(2*time.Minute), 3*time.Second), CalleeHangsUp: p.rng.Float64() < 0.5}
	switch r := p.rng.Float64(); {
	case r < 0.1:
		d.Outcome = Busy
	case r < 0.25:
		d.Outcome = NoAnswer
	}
	p.direct(d)
}

func (p *PBX) randomInternal() {
	from := p.idleOperator("")
	if from == nil {
		return
	}
	to := p.idleOperator(from.Endpoint)
	if to == nil {
		return
	}
	d := Direct{From: from.Endpoint, Number: to.Endpoint, Ring: p.jitter(3 * time.Second), Talk: max(p.expDur(time.Minute), 2*time.Second)}
	if p.rng.Float64() < 0.1 {
		d.Hold = []Hold{{After: d.Talk / 3, For: p.jitter(10 * time.Second)}}
	}
	p.direct(d)
}

// scheduleBreak pauses the member now and then with one of the operator's reasons,
// through the same path as the QueuePause action.
func (p *PBX) scheduleBreak(m *member, op *Operator) {
	mean := time.Duration(float64(time.Hour) / op.PausesPerHour)
	p.after(max(p.expDur(mean), time.Minute), func() {
		if !m.paused && p.curve(p.now) > 0.1 {
			reason := op.PauseReasons[p.rng.IntN(len(op.PauseReasons))]
			p.pauseMember(m.iface, m.q.name, true, reason)
			p.after(max(p.expDur(op.MeanPause), time.Minute), func() {
				if m.paused {
					p.pauseMember(m.iface, m.q.name, false, "")
				}
			})
		}
		p.scheduleBreak(m, op)
	})
}
