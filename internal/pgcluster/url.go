package pgcluster

import (
	"fmt"
	"net/url"
)

// PostgresURL returns a postgres:// URL for database db, for tools that only accept
// the URL form (atlas, used by `make migration`). lib/pq accepts it as well.
func (c *Cluster) PostgresURL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(Superuser, c.password), Path: "/" + db}
	q := url.Values{}
	q.Set("sslmode", "disable")
	if c.sockDir != "" {
		u.Host = "localhost" // ignored by lib/pq when host= names a socket directory
		q.Set("host", c.sockDir)
	} else {
		u.Host = "127.0.0.1"
	}
	q.Set("port", fmt.Sprint(c.port))
	u.RawQuery = q.Encode()
	return u.String()
}
