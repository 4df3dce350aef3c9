package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
	"github.com/coop-exchange/coop/jobs"
)

func cmdMatch(ctx context.Context, args []string, env env, io streams) error {
	fs := newFlags("match", "match --once [--dry-run] [--json] [--greedy] [flags]", `
Run one matcher pass now, as coop serve does on COOP_MATCH_SCHEDULE: propose helpers for the
open requests, record why the others stay unmatched, expire requests whose start has passed,
and tell the coordinators. If another process is running a pass, it says so and does nothing.

--dry-run writes nothing and lists the proposals the pass would make. --json prints one JSON
object instead of text. --greedy (with --dry-run) uses the greedy baseline instead of the real
solver, to compare the two.`, io)
	flags := configFlags(fs)
	once := fs.Bool("once", false, "run one pass now (required; scheduled passes run in coop serve)")
	dryRun := fs.Bool("dry-run", false, "write nothing; list the proposals the pass would make")
	asJSON := fs.Bool("json", false, "print one JSON object")
	greedy := fs.Bool("greedy", false, "use the greedy baseline (with --dry-run), for comparison")
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	if !*once || fs.NArg() > 0 {
		fmt.Fprintln(io.err, "coop match: give --once to run one pass now (coop serve runs them on COOP_MATCH_SCHEDULE)")
		return errUsage
	}
	if *greedy && !*dryRun {
		fmt.Fprintln(io.err, "coop match: --greedy is a baseline for comparison, so it only runs with --dry-run")
		return errUsage
	}
	cfg, log, st, err := configure(ctx, fs, flags, env, io)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Ready(ctx); err != nil {
		return fmt.Errorf("the database is not ready (run coop migrate first): %w", err)
	}
	svc, _ := services(st, domain.PasswordHasher{}, cfg.Location, cfg.AnswerWithin, nil)
	m := jobs.NewMatcher(st, st, cfg.Location, nil, log, nil).WithLifecycle(svc.Agreements).WithEscalation(escalations(st, svc, cfg))
	rep, err := m.Pass(ctx, jobs.PassOptions{DryRun: *dryRun, Greedy: *greedy})
	if err != nil {
		return err
	}
	if !rep.Ran {
		return fmt.Errorf("another process is running a pass just now; nothing was done, so try again in a moment")
	}
	if *asJSON {
		return printPassJSON(io, rep, *dryRun)
	}
	return printPass(io, rep, *dryRun, cfg.Location)
}

// passJSON is the object coop match --json prints.
type passJSON struct {
	PassID             int64          `json:"pass_id,omitempty"`
	DryRun             bool           `json:"dry_run"`
	Proposed           int            `json:"proposed"`
	Unmatched          int            `json:"unmatched"`
	UnmatchedReasons   map[string]int `json:"unmatched_reasons"`
	Expired            int            `json:"expired"`
	RequestsConsidered int            `json:"requests_considered"`
	HelpersConsidered  int            `json:"helpers_considered"`
	CandidatePairs     int            `json:"candidate_pairs"`
	DurationMs         int64          `json:"duration_ms"`
	LoadMs             int64          `json:"load_ms"`
	SolveMs            int64          `json:"solve_ms"`
	Proposals          []proposalJSON `json:"proposals,omitempty"`
}

type proposalJSON struct {
	RequestID int64    `json:"request_id"`
	OfferID   int64    `json:"offer_id"`
	HelperID  int64    `json:"helper_id"`
	Urgent    bool     `json:"urgent"`
	Score     float64  `json:"score"`
	Reasons   []string `json:"reasons"`
}

func printPassJSON(io streams, rep jobs.PassReport, dryRun bool) error {
	out := passJSON{PassID: rep.ID, DryRun: dryRun, Proposed: rep.Proposed, Unmatched: rep.Unmatched,
		UnmatchedReasons: rep.UnmatchedReasons, Expired: rep.Expired, RequestsConsidered: rep.RequestsConsidered,
		HelpersConsidered: rep.HelpersConsidered, CandidatePairs: rep.CandidatePairs, DurationMs: rep.Duration.Milliseconds(),
		LoadMs: rep.Load.Milliseconds(), SolveMs: rep.Solve.Milliseconds()}
	if dryRun {
		out.Proposals = []proposalJSON{}
		for _, p := range rep.Proposals {
			out.Proposals = append(out.Proposals, proposalJSON{RequestID: p.RequestID, OfferID: p.OfferID, HelperID: p.HelperID,
				Urgent: p.Urgent, Score: p.Score, Reasons: p.Reasons})
		}
	}
	enc := json.NewEncoder(io.out)
	return enc.Encode(out)
}

func printPass(io streams, rep jobs.PassReport, dryRun bool, loc *time.Location) error {
	verb, expired := "Proposed", "Expired"
	if dryRun {
		fmt.Fprintln(io.out, "Dry run: nothing was written.")
		verb, expired = "Would propose", "Would expire"
	} else {
		fmt.Fprintf(io.out, "Pass %d at %s.\n", rep.ID, rep.StartedAt.In(loc).Format("2 Jan 2006 15:04:05"))
	}
	fmt.Fprintf(io.out, "Considered %d open requests and %d helpers: %d candidate pairs, in %s (reading %s, solving %s).\n",
		rep.RequestsConsidered, rep.HelpersConsidered, rep.CandidatePairs, round(rep.Duration), round(rep.Load), round(rep.Solve))
	if rep.HelpersUnlocated > 0 {
		fmt.Fprintf(io.out, "%d helpers have no area, so no distance to them can be measured: they cannot be matched.\n", rep.HelpersUnlocated)
	}
	fmt.Fprintf(io.out, "%s %d matches; %d requests stay unmatched; %s %d requests whose time has passed.\n",
		verb, rep.Proposed, rep.Unmatched, strings.ToLower(expired), rep.Expired)
	if len(rep.UnmatchedReasons) > 0 {
		w := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "UNMATCHED\tBECAUSE")
		for _, code := range matching.Codes {
			if n := rep.UnmatchedReasons[string(code)]; n > 0 {
				fmt.Fprintf(w, "%d\t%s\n", n, code.Label())
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if dryRun && len(rep.Proposals) > 0 {
		fmt.Fprintln(io.out, "Proposals:")
		ps := slices.Clone(rep.Proposals)
		for _, p := range ps {
			urgent := ""
			if p.Urgent {
				urgent = " (urgent)"
			}
			fmt.Fprintf(io.out, "  request %d%s: helper %d (offer %d), score %.1f: %s\n", p.RequestID, urgent, p.HelperID, p.OfferID,
				p.Score, matching.Summary(p.Reasons))
		}
	}
	return nil
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
