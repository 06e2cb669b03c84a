package assemble

// onBlindTransfer: the transferee stays on its channel and runs the dialplan at
// Extension@Context; the target is known when something answers next (reference §3.d).
// Result: Success only means the party was put in the dialplan.
func (a *Assembler) onBlindTransfer(ev *evCtx) {
	if ev.get("Result") != "Success" {
		return
	}
	by := a.snapshot(ev, pTransferer)
	tee := a.snapshot(ev, pTransferee)
	if by == nil && tee == nil {
		return
	}
	ref := tee
	if ref == nil {
		ref = by
	}
	a.blind(ref.call, by, ev.get("Extension"), ev)
}

func (a *Assembler) blind(c *callState, by *channel, exten string, ev *evCtx) {
	to := Party{Number: exten}
	if op := a.dir.byExten[exten]; op != nil {
		to = Party{Number: op.Exten, Name: op.Name, Device: op.Device}
	}
	tr := Transfer{Type: TransferBlind, To: to, At: ev.t}
	if by != nil {
		by.transferer = true
		tr.By = a.partyOf(a.realOf(by))
		a.endLeg(by, &to, ev)
	}
	c.rec.Transfers = append(c.rec.Transfers, tr)
	c.pendingBlind = len(c.rec.Transfers)
	// Evidence of who hung up before the transfer is about a conversation that is over.
	c.leaver, c.leaverRole, c.lastReq, c.lastReqRole = nil, "", nil, ""
	c.originDial = ""
	a.note(Notification{Kind: Transferred, Time: ev.t, Linkedid: c.id(), Party: to, Transfer: &tr})
}

func (a *Assembler) endLeg(ch *channel, to *Party, ev *evCtx) {
	r := a.realOf(ch)
	if r == nil || r.leg == 0 {
		return
	}
	l := &r.call.rec.Legs[r.leg-1]
	if l.TransferredTo == nil {
		t := *to
		l.TransferredTo = &t
	}
}

// onAttendedTransfer: two cases (reference §3.e). With a DTMF atxfer the consultation
// leg was created inside the same call and nothing changes hands but the target. With a
// SIP attended transfer the consultation is a second call with its own linkedid: it is
// kept as its own (internal) call whose Parent is the customer call, and the target's
// channel joins the customer call when its linkedid changes.
func (a *Assembler) onAttendedTransfer(ev *evCtx) {
	if ev.get("Result") != "Success" {
		return
	}
	orig := a.snapshot(ev, pOrigTransferer)
	second := a.snapshot(ev, pSecondTransferer)
	target := a.snapshot(ev, pTransferTarget)
	if orig == nil && second == nil {
		return
	}
	if orig == nil {
		orig = second
	}
	if second == nil {
		second = orig
	}
	a.attended(orig, second, target, ev)
}

func (a *Assembler) attended(orig, second, target *channel, ev *evCtx) {
	orig.transferer, second.transferer = true, true
	customer, consult := orig.call, second.call
	tr := Transfer{Type: TransferAttended, By: a.partyOf(a.realOf(orig)), At: ev.t}
	if customer != consult {
		if olderUniqueid(consult.id(), customer.id()) {
			customer, consult = consult, customer
		}
		consult.rec.Parent = customer.id()
		customer.addLinkedid(consult.id())
		if consult.rec.AnsweredBy != nil {
			tr.To = *consult.rec.AnsweredBy
		} else {
			tr.To = a.callee(consult)
		}
		tr.Answered = consult.answered
	} else if target != nil {
		r := a.realOf(target)
		tr.To = a.partyOf(r)
		tr.Answered = r != nil && (r.answered || r.up)
	}
	if !tr.Answered {
		// The transferer hung up before the target answered (reference §3.e.1).
		tr.Type = TransferBlonde
	}
	a.endLeg(orig, &tr.To, ev)
	customer.rec.Transfers = append(customer.rec.Transfers, tr)
	customer.leaver, customer.leaverRole, customer.lastReq, customer.lastReqRole = nil, "", nil, ""
	if !tr.Answered {
		customer.pendingBlind = len(customer.rec.Transfers)
	}
	if tr.Answered {
		a.addOperator(customer, tr.To)
	}
	a.note(Notification{Kind: Transferred, Time: ev.t, Linkedid: customer.id(), Party: tr.To, Transfer: &tr})
}

// onTransfer11 handles Asterisk 11's Transfer event (TransferType Blind/Attended).
func (a *Assembler) onTransfer11(ev *evCtx) {
	by := a.chans[ev.get("Uniqueid")]
	target := a.chans[ev.get("TargetUniqueid")]
	if by == nil {
		return
	}
	a.touch(by.call, ev)
	switch ev.get("TransferType") {
	case "Blind":
		c := by.call
		if target != nil {
			c = target.call
		}
		a.blind(c, by, ev.get("TransferExten"), ev)
	case "Attended":
		if target == nil {
			return
		}
		a.attended(by, target, nil, ev)
	}
}
