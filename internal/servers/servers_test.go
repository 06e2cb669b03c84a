package servers

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/testdb"
)

func TestMain(m *testing.M) {
	testdb.SetMigrate(func(ctx context.Context, db *sql.DB) error { _, err := dbschema.Apply(ctx, db); return err })
	testdb.Main(m)
}

func str(s string) *string { return &s }

// TestCustomVariables: the channel variables a server captures are validated, stored
// on create, replaced on update when given and kept when not.
func TestCustomVariables(t *testing.T) {
	c := ent.NewClient(ent.Driver(entsql.OpenDB("postgres", testdb.New(t))))
	ctx := auth.SystemContext(context.Background())
	in := Input{Name: str("pbx"), AMIAddress: str("127.0.0.1:5038"), AMIUsername: str("u"), AMISecret: str("s"),
		CustomVariables: []string{"CRM_ID", "bad name", ""}}
	_, err := Create(ctx, c, in)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"bad name"`) || !strings.Contains(err.Error(), `""`) {
		t.Fatalf("invalid variables: %v", err)
	}
	in.CustomVariables = []string{"CRM_ID", "TICKET"}
	s, err := Create(ctx, c, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Server.GetX(ctx, s.ID).CustomVariables; !slices.Equal(got, []string{"CRM_ID", "TICKET"}) {
		t.Fatalf("stored %v", got)
	}
	if _, err := Update(ctx, c, s.ID, Input{Name: str("pbx-1")}); err != nil {
		t.Fatal(err)
	}
	if got := c.Server.GetX(ctx, s.ID).CustomVariables; !slices.Equal(got, []string{"CRM_ID", "TICKET"}) {
		t.Fatalf("an update without variables changed them: %v", got)
	}
	if _, err := Update(ctx, c, s.ID, Input{CustomVariables: []string{"ORDER"}}); err != nil {
		t.Fatal(err)
	}
	if got := c.Server.GetX(ctx, s.ID).CustomVariables; !slices.Equal(got, []string{"ORDER"}) {
		t.Fatalf("after update %v", got)
	}
	if _, err := Update(ctx, c, s.ID, Input{CustomVariables: []string{"A=B"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("update with a bad variable: %v", err)
	}
}
