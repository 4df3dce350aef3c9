package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
)

// PassStore is what a matcher pass reads and writes.
type PassStore interface {
	domain.Transactor
	// MatchInput reads what a pass at now needs, all but the time zone and the time.
	MatchInput(ctx context.Context, now time.Time) (matching.Input, error)
	CountExpiring(ctx context.Context, now time.Time) (int, error)
	ExpireRequests(ctx context.Context, now time.Time) (int, error)
	CreatePass(ctx context.Context, p *domain.MatchPass) error
	FinishPass(ctx context.Context, p domain.MatchPass) error
	// InsertProposals writes the proposals whose request, offer and people have not changed since
	// they were read, and returns the requests it wrote them for.
	InsertProposals(ctx context.Context, passID int64, ps []matching.Proposal, at time.Time) ([]int64, error)
	SaveUnmatched(ctx context.Context, passID int64, us []matching.Unmatched, at time.Time) error
	AddNotice(ctx context.Context, n *domain.Notice) error
}

// Locker takes named locks that hold across every process sharing the database.
type Locker interface {
	// TryLock takes the lock if it is free, and returns how to give it back.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// passLock is the lock a pass holds, so that only one process runs a pass at a time.
const passLock = "match-pass"

// MatchPage is where coordinators see what the latest pass proposed.
const MatchPage = "/coordinate/matching"

// PassOptions change what one pass does.
type PassOptions struct {
	// DryRun finds what the pass would propose and expire, and writes nothing.
	DryRun bool
	// Greedy uses the greedy baseline instead of the real solver, for comparison (dry runs only).
	Greedy bool
}

// PassReport is what a pass did, or in a dry run would do.
type PassReport struct {
	domain.MatchPass
	// Ran is false when another process was running a pass, so this one did nothing.
	Ran       bool
	Proposals []matching.Proposal
	Unmet     []matching.Unmatched // each request left unmatched, and why
	// Timed is what the life cycle's timed steps did before the pass.
	Timed domain.TimedCounts
	// LetThrough counts proposals that went straight to the two people (no moderation).
	LetThrough int
	// Escalation is what the escalation step did after the pass.
	Escalation domain.EscalationCounts
}

// Lifecycle moves matches on as time passes, and lets a pass's proposals in categories that
// need no moderation straight through to the two people.
type Lifecycle interface {
	RunTimed(ctx context.Context) (domain.TimedCounts, error)
	LetThrough(ctx context.Context, passID int64) (int, error)
}

// Matcher runs matcher passes: lapse unanswered approvals, load, solve, write the proposals,
// expire what is past, and tell the coordinators.
type Matcher struct {
	store     PassStore
	locker    Locker
	lifecycle Lifecycle
	escalator Escalator
	loc       *time.Location
	now       func() time.Time
	log       *slog.Logger
	metrics   *MatchMetrics
}

// Escalator passes requests the community has not met in time to formal services.
type Escalator interface {
	EscalateDue(ctx context.Context) (domain.EscalationCounts, error)
}

// WithEscalation makes each pass end with the escalation step (after matching; the requests it
// considers start in the future, so expiry, which takes those whose start has passed, never
// meets them).
func (m *Matcher) WithEscalation(e Escalator) *Matcher {
	m.escalator = e
	return m
}

// WithLifecycle makes each pass first run the life cycle's timed steps (so that requests whose
// approvals lapsed are matched again at once) and then let through what needs no moderation.
func (m *Matcher) WithLifecycle(l Lifecycle) *Matcher {
	m.lifecycle = l
	return m
}

// NewMatcher returns the matcher over store; loc is the co-op's time zone, now its clock, and
// metrics (which may be nil) counts its passes.
func NewMatcher(store PassStore, locker Locker, loc *time.Location, now func() time.Time, log *slog.Logger, metrics *MatchMetrics) *Matcher {
	if now == nil {
		now = time.Now
	}
	return &Matcher{store: store, locker: locker, loc: loc, now: now, log: log, metrics: metrics}
}

// Pass runs one pass now, unless another process is running one (then Ran is false). A pass
// that fails writes nothing.
func (m *Matcher) Pass(ctx context.Context, opt PassOptions) (PassReport, error) {
	if opt.Greedy && !opt.DryRun {
		return PassReport{}, fmt.Errorf("the greedy baseline is for comparison: it only runs as a dry run")
	}
	release, ok, err := m.locker.TryLock(ctx, passLock)
	if err != nil {
		m.metrics.count("failed")
		return PassReport{}, fmt.Errorf("match pass: %w", err)
	}
	if !ok {
		m.log.Debug("match pass skipped: another process is running one")
		m.metrics.count("skipped")
		return PassReport{}, nil
	}
	defer release()
	rep, err := m.run(ctx, opt)
	if err != nil {
		m.metrics.count("failed")
		return PassReport{}, fmt.Errorf("match pass: %w", err)
	}
	if !opt.DryRun {
		m.metrics.done(rep)
	}
	return rep, nil
}

func (m *Matcher) run(ctx context.Context, opt PassOptions) (PassReport, error) {
	var timed domain.TimedCounts
	if m.lifecycle != nil && !opt.DryRun {
		var err error
		if timed, err = m.lifecycle.RunTimed(ctx); err != nil {
			return PassReport{}, fmt.Errorf("timed steps: %w", err)
		}
	}
	// The pass's own times start here, after the timed steps, so that its recorded finish
	// (its start plus its duration) is when it really finished.
	began := time.Now() // durations are measured on the monotonic clock, times come from m.now
	now := m.now().UTC()
	in, err := m.store.MatchInput(ctx, now)
	if err != nil {
		return PassReport{}, err
	}
	in.Loc, in.Now = m.loc, now
	unlocated := 0
	for i := range in.Helpers {
		h := &in.Helpers[i]
		if !h.Located {
			unlocated++
		}
		// A check counts through its re-check date in the co-op's time zone.
		for k, c := range h.Checks {
			d := c.ValidUntil.UTC()
			h.Checks[k].ValidUntil = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, m.loc)
		}
	}
	loaded := time.Now()
	solve := matching.Solve
	if opt.Greedy {
		solve = matching.SolveGreedy
	}
	res := solve(in)
	solved := time.Now()

	rep := PassReport{Ran: true, Proposals: res.Proposals, Unmet: res.Unmatched}
	rep.MatchPass = domain.MatchPass{StartedAt: now, Load: loaded.Sub(began), Solve: solved.Sub(loaded),
		RequestsConsidered: res.Stats.Requests, HelpersConsidered: res.Stats.Helpers, HelpersUnlocated: unlocated,
		CandidatePairs: res.Stats.CandidatePairs, Proposed: len(res.Proposals), Unmatched: len(res.Unmatched),
		UnmatchedReasons: map[string]int{}}
	for _, u := range res.Unmatched {
		rep.UnmatchedReasons[string(u.Code)]++
	}
	if opt.DryRun {
		if rep.Expired, err = m.store.CountExpiring(ctx, now); err != nil {
			return PassReport{}, err
		}
		rep.Duration, rep.FinishedAt = time.Since(began), now.Add(time.Since(began))
		return rep, nil
	}

	err = m.store.Transact(ctx, func(ctx context.Context) error {
		var err error
		if rep.Expired, err = m.store.ExpireRequests(ctx, now); err != nil {
			return err
		}
		if err := m.store.CreatePass(ctx, &rep.MatchPass); err != nil {
			return err
		}
		written, err := m.store.InsertProposals(ctx, rep.ID, res.Proposals, now)
		if err != nil {
			return err
		}
		if len(written) < len(res.Proposals) {
			m.log.Info("match pass: some proposals were not written, as what they rest on changed while the pass ran",
				"found", len(res.Proposals), "written", len(written))
			kept := make(map[int64]bool, len(written))
			for _, id := range written {
				kept[id] = true
			}
			rep.Proposals = slices.DeleteFunc(slices.Clone(res.Proposals), func(p matching.Proposal) bool { return !kept[p.RequestID] })
		}
		rep.Proposed = len(written)
		if err := m.store.SaveUnmatched(ctx, rep.ID, res.Unmatched, now); err != nil {
			return err
		}
		rep.Duration = time.Since(began)
		rep.FinishedAt = now.Add(rep.Duration)
		if err := m.store.FinishPass(ctx, rep.MatchPass); err != nil {
			return err
		}
		if msg := noticeOf(rep); msg != "" {
			return m.store.AddNotice(ctx, &domain.Notice{Kind: domain.NoticeMatchPass, Message: msg, Link: MatchPage, CreatedAt: rep.FinishedAt})
		}
		return nil
	})
	if err != nil {
		return PassReport{}, err
	}
	rep.Timed = timed
	if m.lifecycle != nil && rep.Proposed > 0 {
		// Written after the pass: a failure here leaves proposals for a coordinator, never lost.
		if rep.LetThrough, err = m.lifecycle.LetThrough(ctx, rep.ID); err != nil {
			return rep, fmt.Errorf("let proposals through: %w", err)
		}
	}
	if m.escalator != nil {
		if rep.Escalation, err = m.escalator.EscalateDue(ctx); err != nil {
			return rep, fmt.Errorf("escalation step: %w", err)
		}
	}
	return rep, nil
}

// noticeOf tells coordinators what a pass did that needs them, or nothing.
func noticeOf(rep PassReport) string {
	var msg string
	if rep.Proposed > 0 {
		urgent := 0
		for _, p := range rep.Proposals {
			if p.Urgent {
				urgent++
			}
		}
		msg = fmt.Sprintf("The matcher proposed %s", plural(rep.Proposed, "match", "matches"))
		if urgent > 0 {
			msg += fmt.Sprintf(" (%d for urgent requests)", urgent)
		}
		msg += " for you to review."
	}
	if rep.Expired > 0 {
		if msg != "" {
			msg += " "
		}
		if rep.Expired == 1 {
			msg += "1 request passed its start time without a helper and expired."
		} else {
			msg += fmt.Sprintf("%d requests passed their start time without a helper and expired.", rep.Expired)
		}
	}
	return msg
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// MatchJob runs a pass on the schedule, logging what it did.
func MatchJob(m *Matcher, log *slog.Logger) Job {
	return func(ctx context.Context) error {
		rep, err := m.Pass(ctx, PassOptions{})
		if err != nil || !rep.Ran {
			return err
		}
		log.Info("match pass", "pass", rep.ID, "proposed", rep.Proposed, "unmatched", rep.Unmatched, "expired", rep.Expired,
			"requests", rep.RequestsConsidered, "helpers", rep.HelpersConsidered, "candidate_pairs", rep.CandidatePairs,
			"took_ms", rep.Duration.Milliseconds())
		return nil
	}
}

// MatchMetrics counts this process's passes for /metrics. (What the latest pass of any process
// found is read from the database; see the app's metrics.)
type MatchMetrics struct {
	passes    *prometheus.CounterVec
	duration  prometheus.Histogram
	proposals prometheus.Counter
}

// NewMatchMetrics registers the matcher's metrics with reg.
func NewMatchMetrics(reg prometheus.Registerer) *MatchMetrics {
	m := &MatchMetrics{
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coop_match_passes_total",
			Help: "Matcher passes this process tried, by outcome: done, skipped (another process held the lock) or failed."}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "coop_match_pass_seconds",
			Help: "How long this process's matcher passes took.", Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}}),
		proposals: prometheus.NewCounter(prometheus.CounterOpts{Name: "coop_match_proposals_total",
			Help: "Proposals written by this process's matcher passes."}),
	}
	reg.MustRegister(m.passes, m.duration, m.proposals)
	for _, o := range []string{"done", "skipped", "failed"} {
		m.passes.WithLabelValues(o)
	}
	return m
}

func (m *MatchMetrics) count(outcome string) {
	if m != nil {
		m.passes.WithLabelValues(outcome).Inc()
	}
}

func (m *MatchMetrics) done(rep PassReport) {
	if m != nil {
		m.passes.WithLabelValues("done").Inc()
		m.duration.Observe(rep.Duration.Seconds())
		m.proposals.Add(float64(rep.Proposed))
	}
}
