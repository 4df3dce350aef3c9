package app

import (
	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

func (s *Server) sendPasswordLink(c *fiber.Ctx, m domain.Member) error { return nil }
