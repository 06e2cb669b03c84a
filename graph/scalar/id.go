// Package scalar holds GraphQL scalars whose errors must reach the client as input
// errors rather than as internal ones.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// MarshalIntID writes an ent id as a GraphQL ID (a JSON string).
func MarshalIntID(id int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(strconv.Itoa(id)))
	})
}

// UnmarshalIntID reads a GraphQL ID given as a string or a number. A malformed id is
// the caller's mistake, so the error is a gqlerror the presenter shows as is.
func UnmarshalIntID(v any) (int, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case float64:
		if v == float64(int(v)) {
			return int(v), nil
		}
		s = fmt.Sprint(v)
	default:
		return 0, gqlerror.Errorf("invalid ID %v: want a Linkage id", v)
	}
	id, err := strconv.Atoi(s)
	if err != nil || id < 0 {
		return 0, gqlerror.Errorf("invalid ID %q: want a Linkage id", s)
	}
	return id, nil
}
