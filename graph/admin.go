package graph

import (
	"github.com/linkage/linkage/ent/schema"
	"github.com/linkage/linkage/graph/model"
	"github.com/linkage/linkage/internal/admin"
)

// Conversions between the administration GraphQL models and package admin, so the
// resolvers stay one call each.

func queueInput(in *model.QueueInput) admin.QueueInput {
	if in == nil {
		return admin.QueueInput{}
	}
	out := admin.QueueInput{DisplayName: in.DisplayName, Timezone: in.Timezone, SLThresholdSeconds: in.SlThresholdSeconds}
	if wh := in.WorkingHours; wh != nil {
		out.WorkingHours = &schema.WorkingHours{Days: wh.Days, From: wh.From, To: wh.To}
	}
	return out
}

func operatorInput(in model.OperatorInput) admin.OperatorInput {
	return admin.OperatorInput{Number: in.Number, Interface: in.Interface, Name: in.Name, Tracked: in.Tracked,
		UserID: in.UserID, ClearUser: deref(in.ClearUser), GroupIDs: in.GroupIDs}
}

func groupInput(in model.OperatorGroupInput) admin.GroupInput {
	return admin.GroupInput{Name: in.Name, Virtual: in.Virtual, OperatorIDs: in.OperatorIDs}
}

func trunkInput(in model.TrunkInput) admin.TrunkInput {
	return admin.TrunkInput{Number: in.Number, Name: in.Name}
}

func pauseReasonInput(in model.PauseReasonInput) admin.PauseReasonInput {
	return admin.PauseReasonInput{ServerID: in.ServerID, Name: in.Name, Position: in.Position, Enabled: in.Enabled}
}

func connTestInput(in *model.ServerInput) admin.ConnTestInput {
	if in == nil {
		return admin.ConnTestInput{}
	}
	return admin.ConnTestInput{Address: in.AmiAddress, Username: in.AmiUsername, Secret: in.AmiSecret}
}

func connTestResult(r *admin.ConnTestResult) *model.ConnectionTestResult {
	if r == nil {
		return nil
	}
	ms := int(r.Latency.Milliseconds())
	return &model.ConnectionTestResult{Ok: r.OK, Greeting: optional(r.Greeting), Error: optional(r.Error), LatencyMs: &ms}
}

func suggestionsModel(s *admin.Suggestions, err error) (*model.DiscoverySuggestions, error) {
	if err != nil {
		return nil, err
	}
	out := &model.DiscoverySuggestions{Queues: []*model.QueueSuggestion{}, Operators: []*model.OperatorSuggestion{}}
	for _, q := range s.Queues {
		out.Queues = append(out.Queues, &model.QueueSuggestion{Number: q.Number, Queue: q.Queue, Members: q.Members})
	}
	for _, o := range s.Operators {
		queues := o.Queues
		if queues == nil {
			queues = []string{}
		}
		out.Operators = append(out.Operators, &model.OperatorSuggestion{Interface: o.Interface, Name: optional(o.Name),
			Number: optional(o.Number), Queues: queues, Operator: o.Operator})
	}
	return out, nil
}
