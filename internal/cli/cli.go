// Package cli implements the seawall command line: one file per command.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/buildinfo"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/malware"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// usageError marks a mistake in how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// env carries what every command needs.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	logLevel       string
	quiet          bool
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "seawall",
		Short:         "Secure containers across build, registry, deploy and run",
		Version:       buildinfo.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return e.setupLog()
		},
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	root.PersistentFlags().StringVar(&e.logLevel, "log-level", envOr("SEAWALL_LOG_LEVEL", "warn"), "log level: debug, info, warn, error")
	root.PersistentFlags().BoolVarP(&e.quiet, "quiet", "q", false, "print no progress and only errors")
	root.AddCommand(
		newSBOMCmd(e),
		newScanCmd(e),
		newDBCmd(e),
		newServeCmd(e),
		newLoginCmd(e),
		newLogoutCmd(e),
		newWhoamiCmd(e),
		newProjectCmd(e),
		newUserCmd(e),
		newMemberCmd(e),
		newRobotCmd(e),
		newGCCmd(e),
		newRescanCmd(e),
		newAuditCmd(e),
		newWebhookCmd(e),
		newWAFCmd(e),
		newVersionCmd(e),
	)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "seawall: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") || strings.Contains(err.Error(), "accepts ") {
		fmt.Fprintln(stderr, "Run 'seawall --help' for usage.")
		return ExitUsage
	}
	if errors.Is(err, context.Canceled) {
		return 130
	}
	return ExitError
}

// exitError ends the process with a chosen code, as --exit-code asks.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func (e *env) setupLog() error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(e.logLevel)); err != nil {
		return usagef("bad --log-level %q: use debug, info, warn or error", e.logLevel)
	}
	if e.quiet && lvl < slog.LevelError {
		lvl = slog.LevelError
	}
	e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// isTerminal reports whether w is a terminal, for progress display.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return termIsTerminal(int(f.Fd()))
}

// registryFlags are shared by commands that read images.
type registryFlags struct {
	platform, username, password string
	insecure                     bool
}

func (r *registryFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.platform, "platform", "", "platform to pick from a multi-platform image, as os/arch[/variant] (default: the host's)")
	cmd.Flags().StringVar(&r.username, "username", os.Getenv("SEAWALL_USERNAME"), "registry user name (default: from ~/.docker/config.json)")
	cmd.Flags().StringVar(&r.password, "password", "", "registry password or token (or SEAWALL_PASSWORD)")
	cmd.Flags().BoolVar(&r.insecure, "insecure", false, "allow plain HTTP and unverified TLS to the registry")
}

func (r *registryFlags) options(tmp *image.TempDir) image.Options {
	pw := r.password
	if pw == "" {
		pw = os.Getenv("SEAWALL_PASSWORD")
	}
	return image.Options{Platform: r.platform, Username: r.username, Password: pw, Insecure: r.insecure, Temp: tmp}
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Seawall version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(e.stdout, "seawall %s\n", buildinfo.Version())
			if malware.YARAEnabled {
				fmt.Fprintf(e.stdout, "YARA: on (%s)\n", malware.YARAVersion())
			} else {
				fmt.Fprintln(e.stdout, "YARA: off (--yara-rules is refused; EICAR and --malware-hashes work. Build with -tags yara, cgo and libyara 4.3+ for YARA)")
			}
			return nil
		},
	}
}
