package dockerfile

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// Scanner checks the Dockerfiles met during a walk of a source tree.
type Scanner struct{}

// NewScanner returns the Dockerfile FileScanner.
func NewScanner() *Scanner { return &Scanner{} }

func (*Scanner) Name() string { return "dockerfile" }

func (*Scanner) Wants(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && IsDockerfile(path)
}

// Scan checks one Dockerfile. A file that does not parse is not checked,
// and the error says why (the walk turns it into a warning).
func (*Scanner) Scan(ctx context.Context, f *image.File) ([]inventory.Finding, error) {
	if f.Size > MaxSize {
		return nil, ErrTooLarge
	}
	data, err := f.ReadAll(MaxSize)
	if err != nil {
		return nil, err
	}
	return CheckBytes(data)
}

// CheckBytes parses a Dockerfile and runs every check on it.
func CheckBytes(data []byte) ([]inventory.Finding, error) {
	df, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("not checked: %w", err)
	}
	return df.Check(), nil
}

// CheckFile checks the Dockerfile at path; the findings' locations are
// path as given.
func CheckFile(path string) ([]inventory.Finding, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxSize {
		return nil, fmt.Errorf("%s: %w", path, ErrTooLarge)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, err := CheckBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range out {
		out[i].Location.Path = path
	}
	return out, nil
}

var _ catalog.FileScanner = (*Scanner)(nil)
