package main

import (
	"context"
	"fmt"
	"net"

	"github.com/coop-exchange/coop/domain"
)

func cmdServe(ctx context.Context, args []string, env env, io streams) error {
	fs := newFlags("serve", "serve [flags]", `
Serve the co-op: the website, the JSON API under /api/v1, /healthz, /readyz and /metrics.
Pending database migrations are applied first. Scheduled jobs run in the same process unless
--no-jobs is given. SIGTERM or Ctrl-C stops it gracefully, finishing requests in progress.`, io)
	flags := configFlags(fs)
	noJobs := fs.Bool("no-jobs", false, "serve without running scheduled jobs (another process runs them)")
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	cfg, log, st, err := configure(ctx, fs, flags, env, io)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := newPlatform(ctx, cfg, st, log, domain.PasswordHasher{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (COOP_ADDR): %w", cfg.Addr, err)
	}
	return p.serve(ctx, ln, *noJobs)
}
