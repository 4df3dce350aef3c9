package app

import (
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Access says who may use a route. Every route declares one when it is registered.
type Access struct {
	Public bool          // anyone, signed in or not
	Roles  []domain.Role // else: signed-in people with one of these roles
}

// The access policies routes choose from.
var (
	public       = Access{Public: true}
	signedIn     = Access{Roles: domain.Roles}
	coordinators = Access{Roles: []domain.Role{domain.RoleCoordinator, domain.RoleAdmin}}
	admins       = Access{Roles: []domain.Role{domain.RoleAdmin}}
	// posters offer and ask for support, and browse what others post (formal services do not).
	posters = Access{Roles: []domain.Role{domain.RoleMember, domain.RoleCoordinator, domain.RoleAdmin}}
)

// Allows reports whether a person with this role may use the route.
func (a Access) Allows(role domain.Role) bool { return a.Public || slices.Contains(a.Roles, role) }

// String describes the policy, for tests and documentation.
func (a Access) String() string {
	if a.Public {
		return "public"
	}
	names := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ",")
}

// Route is one registered route and who may use it.
type Route struct {
	Method string
	Path   string
	Access Access
}

// Routes lists every route the server registered, with its access policy.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

func isAPI(path string) bool { return strings.HasPrefix(path, "/api/") }

func (s *Server) get(path string, a Access, h fiber.Handler)  { s.handle(fiber.MethodGet, path, a, h) }
func (s *Server) post(path string, a Access, h fiber.Handler) { s.handle(fiber.MethodPost, path, a, h) }
func (s *Server) put(path string, a Access, h fiber.Handler)  { s.handle(fiber.MethodPut, path, a, h) }
func (s *Server) patch(path string, a Access, h fiber.Handler) {
	s.handle(fiber.MethodPatch, path, a, h)
}
func (s *Server) delete(path string, a Access, h fiber.Handler) {
	s.handle(fiber.MethodDelete, path, a, h)
}

// handle registers a route behind its guard. Pages that change something also check the form's
// CSRF token; API routes that take a body check that it is JSON.
func (s *Server) handle(method, path string, a Access, h fiber.Handler) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Access: a})
	handlers := []fiber.Handler{s.guard(a)}
	if method != fiber.MethodGet {
		if isAPI(path) {
			handlers = append(handlers, s.apiWriteChecks)
		} else {
			handlers = append(handlers, s.csrf.verify)
		}
	}
	handlers = append(handlers, h)
	if method == fiber.MethodGet {
		s.fiber.Get(path, handlers...) // and HEAD, for load balancers' probes
		return
	}
	s.fiber.Add(method, path, handlers...)
}

// guard refuses a visitor (401 on the API, a redirect to sign in for pages) and a signed-in person
// whose role the route does not allow (403).
func (s *Server) guard(a Access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if a.Public {
			return c.Next()
		}
		me := currentMember(c)
		if me == nil {
			if isAPI(c.Path()) {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="coop"`)
				return domain.ErrUnauthenticated
			}
			next := c.OriginalURL()
			return c.Redirect("/signin?next="+url.QueryEscape(next), fiber.StatusSeeOther)
		}
		if !a.Allows(me.Role) {
			return domain.ErrForbidden
		}
		return c.Next()
	}
}

// Locals keys.
const (
	localMember    = "coop.member"
	localSession   = "coop.session_token"
	localAuthKind  = "coop.auth"
	localRequestID = "coop.request_id"
	localCSRFNonce = "coop.csrf_nonce"
	localClientIP  = "coop.client_ip"
)

const (
	authSession = "session"
	authToken   = "token"
)

// currentMember is the signed-in person, or nil for a visitor.
func currentMember(c *fiber.Ctx) *domain.Member {
	m, _ := c.Locals(localMember).(*domain.Member)
	return m
}

// clientIP is the address of the person asking, worked out once per request (see clientAddress).
func clientIP(c *fiber.Ctx) string {
	ip, _ := c.Locals(localClientIP).(string)
	return ip
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// actor is the signed-in person as the domain sees them, with where the request came from.
func (s *Server) actor(c *fiber.Ctx) domain.Actor {
	a := domain.Actor{IP: clientIP(c), RequestID: requestID(c)}
	if m := currentMember(c); m != nil {
		a.ID, a.Name, a.Role, a.Services = m.ID, m.Name, m.Role, m.Services
	}
	return a
}

func origin(c *fiber.Ctx) domain.Origin {
	return domain.Origin{IP: clientIP(c), UserAgent: strings.Clone(c.Get(fiber.HeaderUserAgent)), RequestID: requestID(c)}
}
