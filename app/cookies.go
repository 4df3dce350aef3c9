package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// sessionCookieName uses the __Host- prefix over https, so that no other site under the same
// domain can set or read it.
func (s *Server) sessionCookieName() string {
	if s.cfg.BaseURL.Scheme == "https" {
		return "__Host-coop_session"
	}
	return "coop_session"
}

func (s *Server) setSessionCookie(c *fiber.Ctx, token string, expires time.Time) {
	c.Cookie(&fiber.Cookie{Name: s.sessionCookieName(), Value: token, Path: "/", Expires: expires,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.BaseURL.Scheme == "https"})
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: s.sessionCookieName(), Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.BaseURL.Scheme == "https"})
}

func mac(key []byte, parts ...string) string {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// csrfGuard protects forms from being sent by other sites. A signed-in person's token is an HMAC
// of their session; a visitor's is an HMAC of a random value in their own cookie. Neither can be
// made without the co-op's secret key.
type csrfGuard struct {
	key    []byte
	secure bool
}

const (
	csrfField  = "_csrf"
	csrfCookie = "coop_csrf"
)

// token returns the token to put in this request's forms.
func (g csrfGuard) token(c *fiber.Ctx) string {
	if sess, _ := c.Locals(localSession).(string); sess != "" {
		return mac(g.key, "csrf-session", sess)
	}
	nonce, _ := c.Locals(localCSRFNonce).(string)
	if nonce == "" {
		nonce = c.Cookies(csrfCookie)
		if len(nonce) != 43 {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			nonce = base64.RawURLEncoding.EncodeToString(b)
			c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: nonce, Path: "/", HTTPOnly: true,
				SameSite: fiber.CookieSameSiteLaxMode, Secure: g.secure})
		}
		nonce = strings.Clone(nonce)
		c.Locals(localCSRFNonce, nonce)
	}
	return mac(g.key, "csrf-visitor", nonce)
}

// verify checks the token of a form sent to a page.
func (g csrfGuard) verify(c *fiber.Ctx) error {
	got := c.FormValue(csrfField)
	var want string
	if sess, _ := c.Locals(localSession).(string); sess != "" {
		want = mac(g.key, "csrf-session", sess)
	} else if nonce := c.Cookies(csrfCookie); nonce != "" {
		want = mac(g.key, "csrf-visitor", nonce)
	}
	if want == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return fiber.NewError(fiber.StatusForbidden, "This form has expired, or was sent from another site. "+
			"Go back, reload the page and try again.")
	}
	return c.Next()
}

const flashCookie = "coop_flash"

// flash leaves a short message for the next page this browser shows (after a redirect).
func (s *Server) flash(c *fiber.Ctx, msg string) {
	v := base64.RawURLEncoding.EncodeToString([]byte(msg))
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: v + "." + mac(s.cfg.SecretKey, "flash", v)[:32], Path: "/",
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.BaseURL.Scheme == "https", MaxAge: 300})
}

// takeFlash returns and clears the message left for this page, if it is ours.
func (s *Server) takeFlash(c *fiber.Ctx) string {
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return ""
	}
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.BaseURL.Scheme == "https"})
	v, sig, ok := strings.Cut(raw, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(mac(s.cfg.SecretKey, "flash", v)[:32])) {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return ""
	}
	return string(b)
}
