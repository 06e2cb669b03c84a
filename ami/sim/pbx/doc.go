// Package pbx is the call-center model behind the AMI simulator. It produces the
// event stream that a real Asterisk 20 (chan_pjsip) writes for inbound queue calls,
// transfers, holds, outbound and internal calls, and it answers the AMI actions that
// Linkage sends. Time is simulated: the caller drives it with Advance and Action, and
// Next says when the model next has work. The PBX is not safe for concurrent use.
//
// Event order and shape follow shared/asterisk-ami-reference.md §2–§4 and the lab
// captures in shared/ami-lab-captures. The tests replay 16 of those captures
// (a1–a3, b1, b2, c1–c3, d1, d2, d2x, e1, f1, g1, h1, h2). Per channel and per bridge,
// the event sequences match exactly: names, uniqueid/linkedid/bridge relations,
// states, caller ID and connected line, context and extension, dial statuses and
// causes. QueueMemberStatus sequences per member match too. The global order
// matches within the thread interleaving that Asterisk itself varies (§4.4), and
// the j1 member actions and a1's list answers match key for key.
//
// What the model produces: full channel snapshots in wire order; uniqueids
// "<epoch>.<n>" from one counter (optionally "<systemname>-…"); per-driver channel
// name counters; linkedid inheritance (dialled channels, Local pairs, consultation
// legs); Newchannel, Newstate, NewCallerid, NewConnectedLine, Newexten and VarSet for
// the dialplan steps that matter (IVR Read, MixMonitor, Queue, Dial, QUEUESTATUS…);
// DialBegin/DialState/DialEnd, including the doubled CANCEL of app_queue; Bridge*
// and BridgeMerge; QueueCallerJoin/Leave/Abandon; AgentCalled/Connect/Complete/
// RingNoAnswer; QueueMemberStatus/Pause/Added/Removed/Penalty/Ringinuse;
// DeviceStateChange for endpoints, Local devices and app_queue's Queue:<q>,
// Queue:<q>_avail and Queue:<q>_pause_<iface> devices; HangupRequest/SoftHangupRequest/Hangup with
// causes (TechCause for 486); Hold/Unhold and MusicOnHoldStart/Stop;
// BlindTransfer (REFER and DTMF); AttendedTransfer (DTMF atxfer with a Local
// consultation leg, and the desk-phone REFER/Replaces kind whose consultation call
// has its own linkedid until the target enters the queue bridge); LocalBridge and LocalOptimizationBegin/End;
// MixMonitorStart/Stop; OriginateResponse.
//
// What it leaves out: CEL, Cdr, RTCPSent/Received, DTMFBegin/End, RTPAUDIOQOS VarSets,
// security events; AgentDump (needs announce/
// memberdelay); pickup and masquerades; transfers by members behind a Local /n pair (Local members that
// optimise away can transfer; every member can hold); parking, conferences and voicemail. A queue exit
// (timeout, leavewhenempty) ends in the lab dialplan's Hangup().
package pbx
