package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/coop-exchange/coop/app"
	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
	"github.com/coop-exchange/coop/domain/openreferral"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/email"
	"github.com/coop-exchange/coop/jobs"
)

// newLogger builds the process's logger in the configured format and level.
func newLogger(w io.Writer, cfg Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// configure reads the configuration for a command whose flags are parsed, and opens the store
// it names; the caller closes the store.
func configure(ctx context.Context, fs *flag.FlagSet, flags map[string]*string, env env, std streams) (Config, *slog.Logger, *store.Store, error) {
	cfg, err := loadConfig(fs, flags, env)
	if err != nil {
		return Config{}, nil, nil, err
	}
	log := newLogger(std.err, cfg)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return Config{}, nil, nil, err
	}
	return cfg, log, st, nil
}

// openReady is configure for commands that change records: the database must be migrated.
func openReady(ctx context.Context, fs *flag.FlagSet, flags map[string]*string, env env, std streams) (*store.Store, app.Services, error) {
	cfg, _, st, err := configure(ctx, fs, flags, env, std)
	if err != nil {
		return nil, app.Services{}, err
	}
	if err := st.Ready(ctx); err != nil {
		st.Close()
		return nil, app.Services{}, fmt.Errorf("the database is not ready (run coop migrate first): %w", err)
	}
	svc, _ := services(st, domain.PasswordHasher{}, cfg.Location, cfg.AnswerWithin, nil)
	return st, svc, nil
}

// openStore connects to the configured database, naming the variable when it cannot.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.Database, log)
	if err != nil {
		return nil, fmt.Errorf("cannot use the database at %s (COOP_DATABASE_URL): %w", redactedURL(cfg.DatabaseURL), err)
	}
	return st, nil
}

// services wires the domain services over one store; loc is the co-op's time zone.
// answerWithin is how long people have to accept an approved match (0 for the default). key is
// the platform's secret key, which signs emailed links; commands that send none pass nil.
func services(st *store.Store, hasher domain.PasswordHasher, loc *time.Location, answerWithin time.Duration, key []byte) (app.Services, *domain.RateLimiter) {
	var clock domain.Clock // the real time
	audit := domain.NewAudit(st, clock)
	limiter := domain.NewRateLimiter(st, clock)
	return app.Services{
		Membership:    domain.NewMembership(st, st, st, st, audit, limiter, hasher, clock),
		Accounts:      domain.NewAccounts(st, st, st, st, audit, limiter, hasher, clock, key),
		Catalogue:     domain.NewCatalogue(st, st, st, audit, clock),
		Exchange:      domain.NewExchange(st, st, st, st, st, audit, clock, loc),
		Matches:       domain.NewMatches(st),
		Agreements:    domain.NewAgreements(st, st, st, st, st, matching.NewRanker(st, loc), st, audit, clock, loc, answerWithin),
		Contributions: domain.NewContributions(st, st, audit, clock, loc),
		Notifications: domain.NewNotifications(st, clock),
		Audit:         audit,
		// Checks and concerns.
		Safeguarding: domain.NewSafeguarding(st, st, audit, clock, loc),
		Preferences:  domain.NewPreferences(st, audit, clock),
		// The directory of formal services; feeds are fetched with a time limit.
		Directory: domain.NewDirectory(st, st, st, audit, clock, openreferral.MustNewReader(), &http.Client{Timeout: feedTimeout}),
		// Who acts for formal services: their people and their systems' tokens.
		ServicePeople: domain.NewServicePeople(st, st, st, st, audit, clock),
	}, limiter
}

// feedTimeout bounds each request to a directory's feed.
const feedTimeout = time.Minute

// platform is everything serve runs: the web server and the scheduler over one store.
type platform struct {
	cfg       Config
	log       *slog.Logger
	store     *store.Store
	server    *app.Server
	scheduler *jobs.Scheduler
	matcher   *jobs.Matcher
}

// newPlatform migrates the database and builds the server and the scheduler.
func newPlatform(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger, hasher domain.PasswordHasher) (*platform, error) {
	n, err := st.Migrate(ctx, log)
	if err != nil {
		return nil, err
	}
	log.Info("database ready", "dialect", st.Dialect(), "database", redactedURL(cfg.DatabaseURL), "migrations_applied", n)

	secret := cfg.SecretKey
	if secret == "" {
		if secret, err = st.EnsureSetting(ctx, "secret_key", time.Now(), func() (string, error) { return domain.NewSecret("", 48) }); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
	}
	svc, limiter := services(st, hasher, cfg.Location, cfg.AnswerWithin, []byte(secret))
	svc.Escalations = escalations(st, svc, cfg)
	svc.Agreements.WithEscalations(svc.Escalations) // a match agreed withdraws the request from a service
	// The one-click "still available" links are signed with the platform's key, like its forms.
	svc.Freshness = domain.NewFreshness(st, st, st, svc.Audit, nil, cfg.Location, []byte(secret))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	server, err := app.New(app.Config{BaseURL: cfg.BaseURL, SecretKey: []byte(secret), Location: cfg.Location,
		Logger: log, Metrics: reg, TrustedProxies: cfg.TrustedProxies}, svc, st)
	if err != nil {
		return nil, err
	}
	sched := jobs.NewScheduler(log, cfg.Location)
	keep := func(prune func(context.Context, time.Time) (int64, error)) jobs.Pruner {
		return func(ctx context.Context) (int64, error) { return prune(ctx, time.Now().Add(-keepMatcherRecords)) }
	}
	err = sched.Add("housekeeping", jobs.HousekeepingSchedule, jobs.Housekeeping(log.With("job", "housekeeping"),
		jobs.Prune{What: "sessions", Prune: svc.Accounts.PruneSessions}, jobs.Prune{What: "attempts", Prune: limiter.Prune},
		jobs.Prune{What: "match_passes", Prune: keep(st.PrunePasses)}, jobs.Prune{What: "notices", Prune: keep(st.PruneNotices)},
		jobs.Prune{What: "notifications", Prune: keep(st.PruneNotifications)},
		jobs.Prune{What: "outbox", Prune: keep(st.PruneOutbox)}))
	if err != nil {
		return nil, err
	}
	deliverer, err := newDeliverer(cfg, st, st, log.With("job", "deliver"))
	if err != nil {
		return nil, err
	}
	if err := sched.Add("deliver", jobs.DeliverSchedule, jobs.DeliverJob(deliverer)); err != nil {
		return nil, err
	}
	if err := sched.Add("freshness", jobs.FreshnessSchedule, jobs.FreshnessJob(svc.Freshness, log.With("job", "freshness"))); err != nil {
		return nil, err
	}
	matchLog := log.With("job", "match")
	matcher := jobs.NewMatcher(st, st, cfg.Location, nil, matchLog, jobs.NewMatchMetrics(reg)).WithLifecycle(svc.Agreements).
		WithEscalation(svc.Escalations)
	if err := sched.Add("match", cfg.MatchSchedule, jobs.MatchJob(matcher, matchLog)); err != nil {
		return nil, fmt.Errorf("COOP_MATCH_SCHEDULE: %w", err)
	}
	return &platform{cfg: cfg, log: log, store: st, server: server, scheduler: sched, matcher: matcher}, nil
}

// newDeliverer builds the outbox's deliverer: email through the configured mail server, or to
// the log when there is none (the demo), so that nothing piles up; webhooks signed with the
// secrets given.
func newDeliverer(cfg Config, st *store.Store, secrets jobs.WebhookSecrets, log *slog.Logger) (*jobs.Deliverer, error) {
	renderer, err := email.NewRenderer(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	var transport email.Transport = email.NewLogTransport(log)
	if cfg.SMTP != nil {
		transport = email.NewSMTP(*cfg.SMTP)
		log.Info("email goes through a mail server", "host", cfg.SMTP.Host, "port", cfg.SMTP.Port, "from", cfg.SMTP.From.Address)
	}
	senders := map[domain.Channel]jobs.Sender{
		domain.ChannelEmail:   email.NewSender(renderer, transport),
		domain.ChannelWebhook: jobs.NewWebhookSender(secrets, jobs.WebhookOptions{UserAgent: "Coop-Webhooks/1 (+" + cfg.BaseURL.String() + ")"}),
	}
	return jobs.NewDeliverer(st, senders, nil, nil, log), nil
}

// escalations builds the escalation step over the directory of formal services. Escalations
// are sent at once (the design's default); holding them as drafts for review is a co-op setting
// still to come.
func escalations(st *store.Store, svc app.Services, cfg Config) *domain.Escalations {
	return domain.NewEscalations(st, st, svc.Directory, st, st, svc.Audit, nil, cfg.Location, cfg.BaseURL.String(), false)
}

// keepMatcherRecords is how long the matcher's passes, the notices to coordinators and the
// outbox's delivered and failed messages are kept.
const keepMatcherRecords = 90 * 24 * time.Hour

// shutdownGrace is how long in-flight requests and running jobs get to finish after SIGTERM.
const shutdownGrace = 25 * time.Second

// serve answers on ln (and runs the jobs, unless noJobs) until ctx ends, then shuts down
// gracefully: it stops accepting, lets in-flight requests and running jobs finish, and returns.
func (p *platform) serve(ctx context.Context, ln net.Listener, noJobs bool) error {
	served := make(chan error, 1)
	go func() { served <- p.server.Fiber().Listener(ln) }()
	if !noJobs {
		p.scheduler.Start()
	}
	p.log.Info("serving", "addr", ln.Addr().String(), "base_url", p.cfg.BaseURL.String(), "jobs", !noJobs)

	var err error
	select {
	case err = <-served:
		err = fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
		p.log.Info("shutting down: finishing requests in progress")
	}
	if serr := p.server.Fiber().ShutdownWithTimeout(shutdownGrace); serr != nil && err == nil {
		err = serr
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if jerr := p.scheduler.Stop(stopCtx); jerr != nil && err == nil {
		err = jerr
	}
	p.log.Info("stopped")
	return err
}
