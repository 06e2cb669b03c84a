//go:build linux

package pgcluster_test

import (
	"context"
	"database/sql"
	"log"
	"log/slog"
	"time"

	_ "github.com/lib/pq"

	"github.com/linkage/linkage/internal/pgcluster"
)

// The server's embedded default: a cluster under the data directory, stopped
// on shutdown, and the app stopping if the database dies under it.
func Example() {
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Options{
		Dir:    "/var/lib/linkage/postgres",
		Logger: slog.Default(),
	})
	if err != nil {
		log.Fatal(err) // errors.Is(err, pgcluster.ErrNoBinaries): tell the admin what to install
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			log.Print(err)
		}
	}()
	db, err := sql.Open("postgres", c.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	select {
	case <-c.Done():
		log.Printf("postgres exited: %v", c.Err())
	case <-ctx.Done():
	}
}
