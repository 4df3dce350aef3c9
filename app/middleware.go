package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

var incomingRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID gives every request an id (a load balancer's X-Request-ID when it looks sane), sent
// back in the response and carried by every log line about the request.
func (s *Server) requestID(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !incomingRequestID.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	} else {
		id = strings.Clone(id)
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	c.Locals(localClientIP, s.clientAddress(c))
	return c.Next()
}

// clientAddress is the address of the person asking. A request from a trusted proxy (a load
// balancer, COOP_TRUSTED_PROXIES) carries it in X-Forwarded-For, to which each proxy appends the
// address it heard from: so the list is read from the right, and the first address that is not a
// trusted proxy is the client's. Anything to its left was written by the client and is ignored.
func (s *Server) clientAddress(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.Context().RemoteIP().String()
	}
	peer = peer.Unmap()
	if !s.trustedProxy(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a mangled header: trust nothing further left
		}
		client = hop.Unmap()
		if !s.trustedProxy(client) {
			break
		}
	}
	return client.String()
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// quietPaths are logged at debug level only: probes and assets would drown the rest.
func quietPath(p string) bool {
	return p == "/healthz" || p == "/readyz" || p == "/metrics" || strings.HasPrefix(p, "/static/")
}

// accessLog handles the error a handler returned (so that the status is final), then logs the
// request and counts it in the metrics.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := s.handleError(c, err); herr != nil {
			s.log.Error("error handler failed", "request_id", requestID(c), "err", herr)
			c.Status(fiber.StatusInternalServerError)
		}
	}
	took := time.Since(start)
	status := c.Response().StatusCode()
	route := s.routeLabel(c)
	s.metrics.observe(c.Method(), route, status, took)

	level := slog.LevelInfo
	if quietPath(c.Path()) {
		level = slog.LevelDebug
	}
	attrs := []any{"request_id", requestID(c), "method", c.Method(), "path", c.Path(), "route", route,
		"status", status, "duration_ms", float64(took.Microseconds()) / 1000, "ip", clientIP(c),
		"bytes", len(c.Response().Body())}
	if m := currentMember(c); m != nil {
		attrs = append(attrs, "member_id", m.ID)
	}
	s.log.Log(c.UserContext(), level, "request", attrs...)
	return nil
}

// routeLabel is the matched route's pattern (never the raw path, which would make a metric per id).
func (s *Server) routeLabel(c *fiber.Ctx) string {
	r := c.Route()
	for _, known := range s.routes {
		if known.Path == r.Path && (known.Method == c.Method() || (c.Method() == fiber.MethodHead && known.Method == fiber.MethodGet)) {
			return r.Path
		}
	}
	return "unmatched"
}

// recoverPanic turns a panic into a 500 answer and logs the stack; the client sees no internals.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic while handling a request", "request_id", requestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errors.New("panic")
		}
	}()
	return c.Next()
}

const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries. Pages and API answers are personal,
// so nothing is cached unless a handler says otherwise (static files do).
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.cfg.BaseURL.Scheme == "https" {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000; includeSubDomains")
	}
	return c.Next()
}

// authenticate finds who is asking: a bearer token on the API, else the session cookie.
// A visitor goes on as a visitor; each route's guard decides what they may do.
func (s *Server) authenticate(c *fiber.Ctx) error {
	if quietPath(c.Path()) {
		return c.Next()
	}
	ctx := c.UserContext()
	if auth := c.Get(fiber.HeaderAuthorization); auth != "" && isAPI(c.Path()) {
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="coop"`)
			return domain.ErrUnauthenticated
		}
		token = strings.TrimSpace(token)
		authenticate := s.svc.Accounts.AuthenticateAPIToken
		if strings.HasPrefix(token, domain.ServiceTokenPrefix) && s.svc.ServicePeople != nil {
			authenticate = s.svc.ServicePeople.AuthenticateToken // a service's own systems
		}
		m, err := authenticate(ctx, token)
		if err == nil {
			err = s.scope(ctx, &m)
		}
		if err != nil {
			if errors.Is(err, domain.ErrUnauthenticated) {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="coop", error="invalid_token"`)
			}
			return err
		}
		c.Locals(localMember, &m)
		c.Locals(localAuthKind, authToken)
		return c.Next()
	}
	if token := c.Cookies(s.sessionCookieName()); token != "" {
		token = strings.Clone(token)
		m, _, err := s.svc.Accounts.Authenticate(ctx, token)
		if err == nil {
			err = s.scope(ctx, &m)
		}
		switch {
		case err == nil:
			c.Locals(localMember, &m)
			c.Locals(localSession, token)
			c.Locals(localAuthKind, authSession)
		case errors.Is(err, domain.ErrUnauthenticated):
			s.clearSessionCookie(c)
		default:
			return err
		}
	}
	return c.Next()
}

// apiWriteChecks guards API calls that change something: a body must be JSON, and a call made
// with a session cookie must come from our own pages (browsers send Origin and Sec-Fetch-Site),
// so that another site cannot make a member's browser act for them.
func (s *Server) apiWriteChecks(c *fiber.Ctx) error {
	if len(c.Body()) > 0 {
		ct := strings.ToLower(c.Get(fiber.HeaderContentType))
		if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(mt) != fiber.MIMEApplicationJSON && strings.TrimSpace(mt) != "application/merge-patch+json" {
			return fiber.NewError(fiber.StatusUnsupportedMediaType, "Send the body as JSON, with Content-Type: application/json.")
		}
	}
	if kind, _ := c.Locals(localAuthKind).(string); kind == authSession {
		if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			return fiber.NewError(fiber.StatusForbidden, "A call signed in with a cookie must come from the co-op's own pages; other programs should use an API token.")
		}
		if o := c.Get(fiber.HeaderOrigin); o != "" && o != s.originOfBaseURL() {
			return fiber.NewError(fiber.StatusForbidden, "A call signed in with a cookie must come from the co-op's own pages; other programs should use an API token.")
		}
	}
	return c.Next()
}

func (s *Server) originOfBaseURL() string {
	return s.cfg.BaseURL.Scheme + "://" + s.cfg.BaseURL.Host
}

// scope fills in the formal services a services user answers for.
func (s *Server) scope(ctx context.Context, m *domain.Member) error {
	if s.svc.ServicePeople == nil || m.Role != domain.RoleServices || len(m.Services) > 0 {
		return nil
	}
	return s.svc.ServicePeople.Scope(ctx, m)
}
