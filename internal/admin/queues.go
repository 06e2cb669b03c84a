package admin

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/callleg"
	"github.com/linkage/linkage/ent/missedcall"
	"github.com/linkage/linkage/ent/queue"
	"github.com/linkage/linkage/ent/queueattempt"
	"github.com/linkage/linkage/ent/queuevisit"
	"github.com/linkage/linkage/ent/schema"
)

// QueueInput is a queue's settings. Nil leaves a setting as it is.
type QueueInput struct {
	DisplayName *string
	// Timezone is an IANA zone; empty: the server's.
	Timezone *string
	// WorkingHours with no days, from and to clears the schedule.
	WorkingHours       *schema.WorkingHours
	SLThresholdSeconds *int
}

// validate checks in as a whole.
func (in QueueInput) validate(f *fieldErrs) {
	if in.Timezone != nil {
		if tz := strings.TrimSpace(*in.Timezone); tz != "" {
			if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
				f.add("timezone", "%q is not an IANA time zone (e.g. Europe/Moscow)", tz)
			}
		}
	}
	if wh := in.WorkingHours; wh != nil && !clearsHours(wh) {
		for _, d := range wh.Days {
			if d < 1 || d > 7 {
				f.add("workingHours.days", "%d is not a weekday: want 1 (Monday) to 7 (Sunday)", d)
			}
		}
		if !isHHMM(wh.From) {
			f.add("workingHours.from", "%q: want HH:MM, e.g. 09:00", wh.From)
		}
		if !isHHMM(wh.To) {
			f.add("workingHours.to", "%q: want HH:MM, e.g. 18:00", wh.To)
		}
	}
	if in.SLThresholdSeconds != nil && *in.SLThresholdSeconds < 0 {
		f.add("slThresholdSeconds", "must be 0 or more, got %d", *in.SLThresholdSeconds)
	}
}

func clearsHours(wh *schema.WorkingHours) bool {
	return len(wh.Days) == 0 && wh.From == "" && wh.To == ""
}

// isHHMM accepts 00:00 to 23:59 with two digits each.
func isHHMM(s string) bool {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	return err1 == nil && err2 == nil && hh >= 0 && hh < 24 && mm >= 0 && mm < 60
}

func (in QueueInput) details() map[string]any {
	d := map[string]any{}
	if in.DisplayName != nil {
		d["displayName"] = *in.DisplayName
	}
	if in.Timezone != nil {
		d["timezone"] = *in.Timezone
	}
	if in.WorkingHours != nil {
		d["workingHours"] = *in.WorkingHours
	}
	if in.SLThresholdSeconds != nil {
		d["slThresholdSeconds"] = *in.SLThresholdSeconds
	}
	return d
}

// CreateQueue adds queue number (its name in queues.conf) to a server.
func (s *Service) CreateQueue(ctx context.Context, serverID int, number string, in QueueInput) (*ent.Queue, error) {
	var q *ent.Queue
	number = strings.TrimSpace(number)
	d := in.details()
	d["server"], d["number"] = serverID, number
	err := s.change(ctx, "queue.create", func() string {
		if q != nil {
			return ref("queue", q.ID)
		}
		return ref("server", serverID)
	}, d, func() error {
		var f fieldErrs
		if number == "" {
			f.add("number", "is required")
		}
		in.validate(&f)
		if err := f.err(); err != nil {
			return err
		}
		if _, err := s.Client.Server.Get(sys(ctx), serverID); err != nil {
			return fmt.Errorf("admin: server %d: %w", serverID, err)
		}
		if ok, err := s.Client.Queue.Query().Where(queue.ServerID(serverID), queue.Number(number)).Exist(sys(ctx)); err != nil {
			return fmt.Errorf("admin: queue %q: %w", number, err)
		} else if ok {
			return invalid("number", "queue %q exists on this server already", number)
		}
		c := s.Client.Queue.Create().SetServerID(serverID).SetNumber(number)
		if in.DisplayName != nil {
			c.SetDisplayName(strings.TrimSpace(*in.DisplayName))
		}
		if in.Timezone != nil {
			c.SetTimezone(strings.TrimSpace(*in.Timezone))
		}
		if in.WorkingHours != nil && !clearsHours(in.WorkingHours) {
			c.SetWorkingHours(*in.WorkingHours)
		}
		if in.SLThresholdSeconds != nil {
			c.SetSlThresholdSeconds(*in.SLThresholdSeconds)
		}
		var err error
		q, err = c.Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("number", "queue %q exists on this server already", number)
		}
		if err != nil {
			return fmt.Errorf("admin: create queue: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, serverID)
	return q, nil
}

// UpdateQueue changes a queue's settings. Editing a discovered queue accepts it.
func (s *Service) UpdateQueue(ctx context.Context, id int, in QueueInput) (*ent.Queue, error) {
	var q *ent.Queue
	err := s.change(ctx, "queue.update", func() string { return ref("queue", id) }, in.details(), func() error {
		var f fieldErrs
		in.validate(&f)
		if err := f.err(); err != nil {
			return err
		}
		u := s.Client.Queue.UpdateOneID(id).SetDiscovered(false)
		if in.DisplayName != nil {
			if v := strings.TrimSpace(*in.DisplayName); v == "" {
				u.ClearDisplayName()
			} else {
				u.SetDisplayName(v)
			}
		}
		if in.Timezone != nil {
			if v := strings.TrimSpace(*in.Timezone); v == "" {
				u.ClearTimezone()
			} else {
				u.SetTimezone(v)
			}
		}
		if in.WorkingHours != nil {
			if clearsHours(in.WorkingHours) {
				u.ClearWorkingHours()
			} else {
				u.SetWorkingHours(*in.WorkingHours)
			}
		}
		if in.SLThresholdSeconds != nil {
			u.SetSlThresholdSeconds(*in.SLThresholdSeconds)
		}
		var err error
		if q, err = u.Save(ctx); err != nil {
			return fmt.Errorf("admin: update queue %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, q.ServerID)
	return q, nil
}

// DeleteQueue removes a queue that no stored call visited: its statistics would go
// with it.
func (s *Service) DeleteQueue(ctx context.Context, id int) error {
	var serverID int
	err := s.change(ctx, "queue.delete", func() string { return ref("queue", id) }, nil, func() error {
		q, err := s.Client.Queue.Get(sys(ctx), id)
		if err != nil {
			return fmt.Errorf("admin: queue %d: %w", id, err)
		}
		serverID = q.ServerID
		if used, err := s.queueInUse(sys(ctx), id); err != nil {
			return err
		} else if used {
			return &ConflictError{Msg: fmt.Sprintf("queue %s has stored calls: it cannot be deleted without its statistics", q.Number)}
		}
		if err := s.Client.Queue.DeleteOneID(id).Exec(ctx); err != nil {
			return fmt.Errorf("admin: delete queue %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.notify(ctx, serverID)
	return nil
}

// queueInUse says whether any stored call refers to the queue (a visit, a leg, a
// ringing attempt or a missed call to call back).
func (s *Service) queueInUse(ctx context.Context, id int) (bool, error) {
	checks := []func() (bool, error){
		func() (bool, error) { return s.Client.QueueVisit.Query().Where(queuevisit.QueueID(id)).Exist(ctx) },
		func() (bool, error) { return s.Client.CallLeg.Query().Where(callleg.QueueID(id)).Exist(ctx) },
		func() (bool, error) { return s.Client.QueueAttempt.Query().Where(queueattempt.QueueID(id)).Exist(ctx) },
		func() (bool, error) { return s.Client.MissedCall.Query().Where(missedcall.QueueID(id)).Exist(ctx) },
	}
	for _, c := range checks {
		used, err := c()
		if err != nil {
			return false, fmt.Errorf("admin: calls of queue %d: %w", id, err)
		}
		if used {
			return true, nil
		}
	}
	return false, nil
}
