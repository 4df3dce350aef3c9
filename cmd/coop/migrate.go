package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/coop-exchange/coop/domain/store"
)

func cmdMigrate(ctx context.Context, args []string, env env, io streams) error {
	fs := newFlags("migrate", "migrate [up|status] [flags]", `
up (the default) applies every pending migration, each in its own transaction, and says which.
status lists every migration this version knows and whether the database has it.`, io)
	flags := configFlags(fs)
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	action := "up"
	switch fs.NArg() {
	case 0:
	case 1:
		action = fs.Arg(0)
	default:
		fmt.Fprintln(io.err, "coop migrate: give at most one of up or status")
		return errUsage
	}
	if action != "up" && action != "status" {
		fmt.Fprintf(io.err, "coop migrate: unknown action %q; use up or status\n", action)
		return errUsage
	}
	cfg, log, st, err := configure(ctx, fs, flags, env, io)
	if err != nil {
		return err
	}
	defer st.Close()
	if action == "up" {
		n, err := st.Migrate(ctx, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "Applied %d migration(s) to %s.\n", n, redactedURL(cfg.DatabaseURL))
		return nil
	}
	states, err := st.Migrations(ctx)
	if err != nil {
		return err
	}
	return printMigrations(io, states)
}

func printMigrations(io streams, states []store.MigrationState) error {
	w := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT (UTC)\tFILE")
	pending := 0
	for _, m := range states {
		state, at := "pending", "-"
		if m.Applied {
			state, at = "applied", m.AppliedAt.UTC().Format("2006-01-02 15:04:05")
		} else {
			pending++
		}
		fmt.Fprintf(w, "%05d\t%s\t%s\t%s\n", m.Version, state, at, m.Name)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "%d migration(s), %d pending.\n", len(states), pending)
	return nil
}
