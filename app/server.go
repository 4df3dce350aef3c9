// Package app is the web layer: the Fiber server, its middleware, the pages and the JSON API.
// It calls the domain services and never reaches the database itself.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/template/html/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/static"
)

// Services are the domain services the web layer calls.
type Services struct {
	Membership *domain.Membership
	Accounts   *domain.Accounts
	Catalogue  *domain.Catalogue
	Exchange   *domain.Exchange
	Matches    *domain.Matches
	Agreements *domain.Agreements
	// Contributions are members' statements and the co-op's totals.
	Contributions *domain.Contributions
	Notifications *domain.Notifications
	Audit         *domain.Audit
	// Safeguarding: checks and concerns.
	Safeguarding *domain.Safeguarding
	Preferences  *domain.Preferences // which emails members get
	// Freshness: whether offers still stand, and checks due for renewal.
	Freshness *domain.Freshness
	// Directory: the formal services needs are escalated to, and their import.
	Directory *domain.Directory
	// Escalations to formal services, as requesters, coordinators and services see them.
	Escalations *domain.Escalations
	// ServicePeople: the services users and API tokens that act for formal services.
	ServicePeople *domain.ServicePeople
}

// Health reports on the database for /readyz.
type Health interface {
	// Ready is nil when the database answers and its migrations are current.
	Ready(ctx context.Context) error
}

// Config is what the web layer needs from the platform's configuration.
type Config struct {
	BaseURL   *url.URL
	SecretKey []byte
	Location  *time.Location
	Logger    *slog.Logger
	Metrics   *prometheus.Registry
	// BodyLimit is the largest request body accepted, in bytes (default 1 MiB).
	BodyLimit int
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed (none by default).
	TrustedProxies []netip.Prefix
}

// Server is the web application.
type Server struct {
	fiber   *fiber.App
	cfg     Config
	svc     Services
	health  Health
	log     *slog.Logger
	routes  []Route
	csrf    csrfGuard
	metrics *httpMetrics
	assets  map[string]string // static path -> the same with a content hash, for long caching
}

// New builds the web application with every route registered.
func New(cfg Config, svc Services, health Health) (*Server, error) {
	return newServer(cfg, svc, health, nil)
}

// newServer builds the application; extra, when given, registers more routes (tests use it to
// reach the real middleware chain with handlers of their own).
func newServer(cfg Config, svc Services, health Health, extra func(*Server)) (*Server, error) {
	if cfg.BaseURL == nil || len(cfg.SecretKey) < 32 || cfg.Location == nil || cfg.Logger == nil || cfg.Metrics == nil {
		return nil, errors.New("app: base URL, a secret key of 32 bytes or more, location, logger and metrics registry are required")
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 1 << 20
	}
	s := &Server{cfg: cfg, svc: svc, health: health, log: cfg.Logger, csrf: csrfGuard{key: cfg.SecretKey, secure: cfg.BaseURL.Scheme == "https"}}
	var err error
	if s.assets, err = hashAssets(static.FS); err != nil {
		return nil, err
	}
	if err = cfg.Metrics.Register(passCollector{matches: svc.Matches, log: cfg.Logger}); err != nil {
		return nil, err
	}
	if s.metrics, err = newHTTPMetrics(cfg.Metrics); err != nil {
		return nil, err
	}
	views, err := s.views()
	if err != nil {
		return nil, err
	}
	s.fiber = fiber.New(fiber.Config{
		AppName:               "coop",
		Views:                 views,
		ErrorHandler:          s.handleError,
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		DisableStartupMessage: true,
		StrictRouting:         false,
		CaseSensitive:         true,
	})
	s.fiber.Use(s.requestID, s.accessLog, s.recoverPanic, s.securityHeaders, s.authenticate)
	s.registerRoutes()
	if extra != nil {
		extra(s)
	}
	// Anything no route matched: a 404 page or problem.
	s.fiber.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return s, nil
}

// Fiber returns the underlying Fiber app, to listen, test or shut down.
func (s *Server) Fiber() *fiber.App { return s.fiber }

// views loads the embedded templates, failing at start-up rather than on the first request.
func (s *Server) views() (*html.Engine, error) {
	sub, err := fs.Sub(templatesFS, "templates")
	if err != nil {
		return nil, err
	}
	engine := html.NewFileSystem(http.FS(sub), ".html")
	engine.AddFuncMap(s.templateFuncs())
	if err := engine.Load(); err != nil {
		return nil, fmt.Errorf("app: load templates: %w", err)
	}
	return engine, nil
}

// hashAssets maps each static file to a URL carrying a hash of its content, so that browsers may
// cache it for a year and still see a new version at once.
func hashAssets(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = "/static/" + p + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}
