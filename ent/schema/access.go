package schema

import (
	"entgo.io/ent"

	"github.com/linkage/linkage/auth/viewer"
)

// Access control is applied here, where the data is read: every ent query of these
// types is filtered to the viewer in its context (lists, node lookups, nested edges,
// counts), and every mutation needs the type's write permission. A context with
// neither a viewer nor auth.SystemContext is denied. The rules live in auth/viewer.

func inters(k viewer.Kind) []ent.Interceptor { return []ent.Interceptor{viewer.Filter(k)} }
func hooks(k viewer.Kind) []ent.Hook         { return []ent.Hook{viewer.Guard(k)} }

// Interceptors of Server.
func (Server) Interceptors() []ent.Interceptor { return inters(viewer.KindServer) }

// Hooks of Server.
func (Server) Hooks() []ent.Hook { return hooks(viewer.KindServer) }

// Interceptors of Queue.
func (Queue) Interceptors() []ent.Interceptor { return inters(viewer.KindQueue) }

// Hooks of Queue.
func (Queue) Hooks() []ent.Hook { return hooks(viewer.KindQueue) }

// Interceptors of Operator.
func (Operator) Interceptors() []ent.Interceptor { return inters(viewer.KindOperator) }

// Hooks of Operator.
func (Operator) Hooks() []ent.Hook { return hooks(viewer.KindOperator) }

// Interceptors of OperatorGroup.
func (OperatorGroup) Interceptors() []ent.Interceptor { return inters(viewer.KindOperatorGroup) }

// Hooks of OperatorGroup.
func (OperatorGroup) Hooks() []ent.Hook { return hooks(viewer.KindOperatorGroup) }

// Interceptors of Trunk.
func (Trunk) Interceptors() []ent.Interceptor { return inters(viewer.KindTrunk) }

// Hooks of Trunk.
func (Trunk) Hooks() []ent.Hook { return hooks(viewer.KindTrunk) }

// Interceptors of Call.
// The call's own lists of queue and operator numbers are trimmed to the scope too.
func (Call) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{viewer.Filter(viewer.KindCall), viewer.RedactCall()}
}

// Hooks of Call.
func (Call) Hooks() []ent.Hook { return hooks(viewer.KindCall) }

// Interceptors of CallLeg.
func (CallLeg) Interceptors() []ent.Interceptor { return inters(viewer.KindCallLeg) }

// Hooks of CallLeg.
func (CallLeg) Hooks() []ent.Hook { return hooks(viewer.KindCallLeg) }

// Interceptors of QueueVisit.
func (QueueVisit) Interceptors() []ent.Interceptor { return inters(viewer.KindQueueVisit) }

// Hooks of QueueVisit.
func (QueueVisit) Hooks() []ent.Hook { return hooks(viewer.KindQueueVisit) }

// Interceptors of QueueAttempt.
func (QueueAttempt) Interceptors() []ent.Interceptor { return inters(viewer.KindQueueAttempt) }

// Hooks of QueueAttempt.
func (QueueAttempt) Hooks() []ent.Hook { return hooks(viewer.KindQueueAttempt) }

// Interceptors of OperatorStatusChange.
func (OperatorStatusChange) Interceptors() []ent.Interceptor {
	return inters(viewer.KindOperatorStatusChange)
}

// Hooks of OperatorStatusChange.
func (OperatorStatusChange) Hooks() []ent.Hook { return hooks(viewer.KindOperatorStatusChange) }

// Interceptors of User.
func (User) Interceptors() []ent.Interceptor { return inters(viewer.KindUser) }

// Hooks of User.
func (User) Hooks() []ent.Hook { return hooks(viewer.KindUser) }

// Interceptors of APIToken.
func (APIToken) Interceptors() []ent.Interceptor { return inters(viewer.KindAPIToken) }

// Hooks of APIToken.
func (APIToken) Hooks() []ent.Hook { return hooks(viewer.KindAPIToken) }

// Interceptors of AuditLog.
func (AuditLog) Interceptors() []ent.Interceptor { return inters(viewer.KindAuditLog) }

// Hooks of AuditLog.
func (AuditLog) Hooks() []ent.Hook { return hooks(viewer.KindAuditLog) }

// Interceptors of Session.
func (Session) Interceptors() []ent.Interceptor { return inters(viewer.KindSession) }

// Hooks of Session.
func (Session) Hooks() []ent.Hook { return hooks(viewer.KindSession) }

// Interceptors of CasbinRule.
func (CasbinRule) Interceptors() []ent.Interceptor { return inters(viewer.KindCasbinRule) }

// Hooks of CasbinRule.
func (CasbinRule) Hooks() []ent.Hook { return hooks(viewer.KindCasbinRule) }

// Interceptors of PauseReason.
func (PauseReason) Interceptors() []ent.Interceptor { return inters(viewer.KindPauseReason) }

// Hooks of PauseReason.
func (PauseReason) Hooks() []ent.Hook { return hooks(viewer.KindPauseReason) }

// Interceptors of MissedCall.
func (MissedCall) Interceptors() []ent.Interceptor { return inters(viewer.KindMissedCall) }

// Hooks of MissedCall.
func (MissedCall) Hooks() []ent.Hook { return hooks(viewer.KindMissedCall) }
