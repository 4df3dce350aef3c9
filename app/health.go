package app

import (
	"context"
	"errors"
	"io/fs"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/static"
)

// healthz says the process is up.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz says whether this process can serve: the database answers and its migrations are current.
// A load balancer stops sending requests while it answers 503.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.health.Ready(ctx); err != nil {
		reason := "the database schema is behind this version; run coop migrate"
		if errors.Is(err, domain.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
			reason = "the database is not answering"
		}
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "reason": reason})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

func (s *Server) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.cfg.Metrics, promhttp.HandlerOpts{}))
}

// staticFile serves an embedded file. A request carrying the content hash (as asset URLs do) may
// be cached for a year.
func (s *Server) staticFile(c *fiber.Ctx) error {
	name := path.Clean(strings.TrimPrefix(c.Path(), "/static/"))
	b, err := fs.ReadFile(static.FS, name)
	if err != nil {
		return fiber.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = fiber.MIMEOctetStream
	}
	c.Set(fiber.HeaderContentType, ctype)
	if v := c.Query("v"); v != "" && strings.HasSuffix(s.assets[name], "?v="+v) {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	}
	return c.Send(b)
}
