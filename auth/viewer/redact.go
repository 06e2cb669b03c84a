package viewer

import (
	"context"
	"reflect"
	"slices"

	"entgo.io/ent"
)

// RedactCall returns the interceptor that trims a call's denormalised display lists
// to the viewer's scope: Queues and MissedInQueues keep only allowed queue numbers,
// MissedByOperators only allowed operator numbers. A call the viewer may see (it
// visited an allowed queue) can also have visited other queues; their rows are
// filtered by the rules, and these copies of their numbers must not leak either.
func RedactCall() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			val, err := next.Query(ctx, q)
			if err != nil || IsSystem(ctx) {
				return val, err
			}
			v, ok := FromContext(ctx)
			if !ok || v.Scope.All {
				return val, err
			}
			redact(reflect.ValueOf(val), map[string][]string{
				"Queues":            v.Scope.QueueNumbers,
				"MissedInQueues":    v.Scope.QueueNumbers,
				"MissedByOperators": v.Scope.OperatorNumbers,
			})
			return val, nil
		})
	})
}

func redact(rv reflect.Value, keep map[string][]string) {
	switch rv.Kind() {
	case reflect.Slice:
		for i := range rv.Len() {
			redact(rv.Index(i), keep)
		}
	case reflect.Pointer:
		if !rv.IsNil() {
			redact(rv.Elem(), keep)
		}
	case reflect.Struct:
		for name, allowed := range keep {
			f := rv.FieldByName(name)
			if !f.IsValid() || !f.CanSet() || f.Type() != reflect.TypeOf([]string(nil)) {
				continue
			}
			list := f.Interface().([]string)
			if list == nil {
				continue
			}
			out := make([]string, 0, len(list))
			for _, s := range list {
				if slices.Contains(allowed, s) {
					out = append(out, s)
				}
			}
			f.Set(reflect.ValueOf(out))
		}
	}
}
