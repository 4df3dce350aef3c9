package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/jobs"
)

func cmdDemo(ctx context.Context, args []string, env env, io streams) error {
	fs := newFlags("demo", "demo [flags]", `
Run a small, believable demo co-op: a fresh SQLite database in a temporary folder (deleted when
the demo stops), filled with areas, the standard categories, a coordinator, an administrator,
a dozen members and a few applications waiting for a decision. It prints the address and the
sign-ins, then serves until Ctrl-C. COOP_DATABASE_URL is ignored.`, io)
	flags := configFlags(fs)
	keep := fs.String("db", "", "keep the demo database at this new file path instead of a temporary one")
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	cfg, err := loadConfig(fs, flags, env)
	if err != nil {
		return err
	}
	path := *keep
	if path == "" {
		dir, err := os.MkdirTemp("", "coop-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "coop-demo.db")
	} else if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("--db %s already exists; the demo starts from a fresh database", path)
	}
	cfg.Database = store.Location{Dialect: store.SQLite, DSN: path}
	cfg.DatabaseURL = "sqlite:" + path

	log := newLogger(io.err, cfg)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := newPlatform(ctx, cfg, st, log, domain.PasswordHasher{})
	if err != nil {
		return err
	}
	people, err := seedDemo(ctx, st, cfg.Location)
	if err != nil {
		return fmt.Errorf("fill the demo co-op: %w", err)
	}
	// The first pass now, so that the coordinators' pages show what the matcher proposes.
	if _, err := p.matcher.Pass(ctx, jobs.PassOptions{}); err != nil {
		return fmt.Errorf("the demo's first matcher pass: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (COOP_ADDR, or --addr): %w", cfg.Addr, err)
	}
	printDemo(io, cfg, ln, path, *keep != "", people)
	return p.serve(ctx, ln, false)
}

func printDemo(io streams, cfg Config, ln net.Listener, path string, kept bool, people []demoSignIn) {
	base := cfg.BaseURL.String()
	if _, port, err := net.SplitHostPort(ln.Addr().String()); err == nil && cfg.BaseURL.Port() != port {
		base = "http://localhost:" + port
	}
	fmt.Fprintf(io.out, "\nThe demo co-op is open at %s\n\nSign in as:\n", base)
	w := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  ROLE\tNAME\tEMAIL\tPASSWORD")
	for _, p := range people {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", p.role, p.name, p.email, p.password)
	}
	w.Flush()
	if kept {
		fmt.Fprintf(io.out, "\nThe demo's data is in %s.\n", path)
	} else {
		fmt.Fprintf(io.out, "\nThe demo's data is in %s, deleted when the demo stops.\n", path)
	}
	fmt.Fprintln(io.out, "Press Ctrl-C to stop.")
}
