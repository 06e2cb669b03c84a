package live_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/testdb"
)

func TestMain(m *testing.M) {
	testdb.SetMigrate(func(ctx context.Context, db *sql.DB) error {
		_, err := dbschema.Apply(ctx, db)
		return err
	})
	testdb.Main(m)
}
