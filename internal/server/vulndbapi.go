package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/scanq"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

// maxImportBody bounds one upload to the import API (an osv.dev all.zip of
// one ecosystem fits; a whole all.zip belongs on the server's disk and
// `seawall db import --db`).
const maxImportBody = 2 << 30

type vulnDBJSON struct {
	Path    string           `json:"path"`
	Present bool             `json:"present"`
	Info    inventory.DBInfo `json:"info"`
}

// vulnDBInfo describes the server's vulnerability database.
func (s *Server) vulnDBInfo(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.principal(r); err != nil {
		return err
	}
	info, ok := s.scan.db.Info()
	return writeJSON(w, http.StatusOK, vulnDBJSON{Path: s.scan.db.Path(), Present: ok, Info: info})
}

type vulnDBImportJSON struct {
	Import  vulndb.Stats       `json:"import"`
	Rematch scanq.RematchStats `json:"rematch"`
}

// importVulnDB adds the OSV records in the request body (a JSON or YAML
// record or list, or a zip of them) to the server's database, then
// rematches every stored SBOM. System admins only.
func (s *Server) importVulnDB(w http.ResponseWriter, r *http.Request) error {
	p, err := s.systemAdmin(r)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "api-upload"
	}
	if len(name) > 200 {
		return badRequest("name is longer than 200 characters")
	}
	replace, _ := strconv.ParseBool(r.URL.Query().Get("replace"))
	tmp, err := os.CreateTemp(s.cfg.DataDir, ".vulndb-upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, http.MaxBytesReader(w, r.Body, maxImportBody))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errf(http.StatusRequestEntityTooLarge, codeInvalid, "the upload is larger than %d GiB: put the file on the server and run `seawall db import --db %s FILE`", maxImportBody>>30, s.scan.db.Path())
		}
		return badRequest("could not read the upload: %v", err)
	}
	if n == 0 {
		return badRequest("the request body is empty: send OSV records as JSON or a zip of them")
	}
	ctx := r.Context()
	st, err := vulndb.Import(ctx, s.scan.db.Path(), []vulndb.Input{{Location: tmp.Name(), Name: name}}, vulndb.ImportOptions{
		Logger:  s.log.With("component", "vulndb"),
		Replace: replace,
	})
	if err != nil {
		return badRequest("import: %v", err)
	}
	if _, err := s.scan.db.Reload(); err != nil {
		return fmt.Errorf("reload the vulnerability database: %w", err)
	}
	rm, err := s.scan.queue.Rematch(ctx, "")
	if err != nil {
		return err
	}
	s.log.Info("vulnerability database import", "by", p.Name, "name", name, "records", st.Records, "added", st.Added,
		"updated", st.Updated, "rematched", rm.Rematched, "changed", rm.Changed, "took", (st.Duration + rm.Took).Round(time.Millisecond))
	return writeJSON(w, http.StatusOK, vulnDBImportJSON{Import: st, Rematch: rm})
}
