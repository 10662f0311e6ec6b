package server

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create the test's schema
)

// TestPostgresBackend runs the server on PostgreSQL (in a schema of its
// own) when SEAWALL_TEST_POSTGRES names one, as .ci/run does: login,
// projects, robots, the token flow, push and pull.
func TestPostgresBackend(t *testing.T) {
	dsn := os.Getenv("SEAWALL_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SEAWALL_TEST_POSTGRES is not set (.ci/run sets it after starting PostgreSQL)")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "server_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PostgreSQL named by SEAWALL_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() { db.Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	e := newTestEnv(t, func(c *Config) {
		c.Database.Driver = "postgres"
		c.Database.DSN = u.String()
	})
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "team"}, nil)
	var rb robotJSON
	e.must(http.StatusCreated, "POST", "/api/v1/projects/team/robots", admin, createRobotRequest{Name: "ci", Permissions: []string{"pull", "push"}}, &rb)
	robot := &authn.Basic{Username: rb.Name, Password: rb.Secret}
	if _, err := e.push("team/app:v1", robot); err != nil {
		t.Fatalf("push: %v", err)
	}
	if err := e.pull("team/app:v1", robot); err != nil {
		t.Fatalf("pull: %v", err)
	}
	e.must(http.StatusNoContent, "DELETE", "/api/v1/projects/team/robots/ci", admin, nil, nil)
	if err := e.pull("team/app:v1", robot); err == nil {
		t.Error("a revoked robot pulled")
	}
	if code, b, _ := e.call("GET", "/readyz", "", nil); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, b)
	}
}
