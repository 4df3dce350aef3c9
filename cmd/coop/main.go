// Command coop is the co-op support exchange: one binary that serves the platform, migrates its
// database, creates users and tokens, and runs a demo co-op.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // so that COOP_TIMEZONE works on machines without a zoneinfo database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.LookupEnv, streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// env looks up an environment variable; tests pass their own.
type env func(string) (string, bool)

// streams are the command's standard input, output and error.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env env, io streams) error
}

func commands() []command {
	return []command{
		{"serve", "serve the platform (applies pending migrations first)", cmdServe},
		{"migrate", "apply pending database migrations, or list them: migrate [up|status]", cmdMigrate},
		{"user", "manage users: user create --role R --email E --name N (password on stdin)", cmdUser},
		{"token", "manage API tokens: token create --email E (prints a new bearer token)", cmdToken},
		{"services", "import formal services from an Open Referral directory: services import FILE|URL", cmdServices},
		{"match", "run one matcher pass now: match --once [--dry-run] [--json]", cmdMatch},
		{"seed", "fill the database with a synthetic community for load tests: seed --members N --offers N --requests N", cmdSeed},
		{"demo", "run a demo co-op on a fresh temporary database, with sign-ins printed", cmdDemo},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "coop: a co-operative community support exchange.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: coop <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run coop <command> --help for a command's flags. Every command reads its configuration from")
	fmt.Fprintln(w, "these environment variables, or from the flag of the same meaning:")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(w, "  %-20s --%-15s default %s\n", s.env, s.flag, def)
	}
}

// errUsage means the command line was wrong; its message has been printed with the usage.
var errUsage = errors.New("usage")

// run runs the command line and returns the process's exit code.
func run(ctx context.Context, args []string, env env, io streams) int {
	if len(args) == 0 {
		usage(io.err)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		usage(io.out)
		return 0
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, args[1:], env, io)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(io.err, "coop %s: %v\n", name, err)
		return 1
	}
	fmt.Fprintf(io.err, "coop: unknown command %q\n\n", name)
	usage(io.err)
	return 2
}

// newFlags makes a flag set for a command, with its description in --help.
func newFlags(name, synopsis, description string, io streams) *flag.FlagSet {
	fs := flag.NewFlagSet("coop "+name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: coop %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, sending --help to standard output.
func parseFlags(fs *flag.FlagSet, args []string, io streams) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(io.out)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return nil
}
