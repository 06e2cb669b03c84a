// migdiff writes a new versioned migration for whatever the ent schema has that the
// migration directory does not yet create. It replays the existing migrations on a
// throwaway database (DEV_DATABASE_URL, or a private cluster it starts itself) and
// diffs the result against ent/schema. Run through `make migration NAME=...`.
//
// With -check it writes nothing and exits 1 when a migration would be needed, which
// is how tests and CI catch a schema change committed without its migration.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"

	_ "github.com/lib/pq" // the database/sql driver atlas opens for postgres:// URLs

	"github.com/linkage/linkage/ent/migrate"
	"github.com/linkage/linkage/internal/pgcluster"
)

func main() {
	dir := flag.String("dir", "ent/migrate/migrations", "migration directory")
	name := flag.String("name", "", "name of the new migration (required unless -check or -rehash)")
	devURL := flag.String("dev-url", os.Getenv("DEV_DATABASE_URL"), "empty PostgreSQL database to replay migrations on (postgres://...)")
	check := flag.Bool("check", false, "only report whether a migration is needed")
	rehash := flag.Bool("rehash", false, "only rewrite atlas.sum (after editing a hand-written migration)")
	flag.Parse()
	if err := run(*dir, *name, *devURL, *check, *rehash); err != nil {
		log.Fatalf("migdiff: %v", err)
	}
}

// privateDevDatabase starts a throwaway cluster, so `make migration` and the check
// need nothing but the PostgreSQL binaries.
func privateDevDatabase() (string, func(), error) {
	dir, err := os.MkdirTemp("", "migdiff-pg-")
	if err != nil {
		return "", nil, err
	}
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "pg"), NoSync: true, Database: "dev"})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("dev database: %w", err)
	}
	stop := func() {
		_ = c.Stop(ctx)
		os.RemoveAll(dir)
	}
	return c.PostgresURL("dev"), stop, nil
}

func run(dirPath, name, devURL string, check, rehash bool) error {
	dir, err := atlas.NewLocalDir(dirPath)
	if err != nil {
		return fmt.Errorf("open %s: %w", dirPath, err)
	}
	if rehash {
		sum, err := dir.Checksum()
		if err != nil {
			return fmt.Errorf("checksum: %w", err)
		}
		return atlas.WriteSumFile(dir, sum)
	}
	if devURL == "" {
		url, stop, err := privateDevDatabase()
		if err != nil {
			return err
		}
		defer stop()
		devURL = url
	}
	target := dir
	if check {
		tmp, err := os.MkdirTemp("", "migdiff-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := os.CopyFS(tmp, os.DirFS(dirPath)); err != nil {
			return fmt.Errorf("copy migrations: %w", err)
		}
		if target, err = atlas.NewLocalDir(tmp); err != nil {
			return err
		}
		name = "check"
	} else if name == "" {
		return fmt.Errorf("-name is required")
	}
	before, err := target.Files()
	if err != nil {
		return err
	}
	err = migrate.NamedDiff(context.Background(), devURL, name,
		schema.WithDir(target),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialect.Postgres),
		schema.WithFormatter(atlas.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	after, err := target.Files()
	if err != nil {
		return err
	}
	if check && len(after) != len(before) {
		return fmt.Errorf("ent/schema has changes without a migration: run `make migration NAME=...`")
	}
	if !check && len(after) == len(before) {
		fmt.Println("migdiff: no changes")
	}
	return nil
}
