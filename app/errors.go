package app

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// problem is an error as the person or program asking should see it (RFC 9457).
type problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []domain.FieldError `json:"errors,omitempty"`
	// Allowed lists the statuses an escalation may move to, when the one asked for is not one.
	Allowed    []string `json:"allowed,omitempty"`
	retryAfter int
}

// formError asks the error handler to show the form again, with the person's answers, instead of
// an error page. Handlers of pages with forms return it around the service's error.
type formError struct {
	err    error
	render func(p problem) error
}

func (e *formError) Error() string { return e.err.Error() }
func (e *formError) Unwrap() error { return e.err }

// retryForm wraps err so that the form is shown again by render.
func retryForm(err error, render func(p problem) error) error {
	return &formError{err: err, render: render}
}

// problemFor decides what an error means to the person asking. This is the one place errors
// become HTTP statuses.
func problemFor(err error) problem {
	var (
		fe       *fiber.Error
		verr     *domain.ValidationError
		rl       *domain.RateLimitError
		conflict *domain.ConflictError
		refused  *domain.SignInRefusedError
		move     *domain.MoveNotAllowedError
	)
	switch {
	case errors.As(err, &move):
		allowed := make([]string, len(move.Allowed))
		for i, a := range move.Allowed {
			allowed[i] = string(a)
		}
		return problem{Status: 409, Title: "This change is not allowed", Detail: move.Error(), Allowed: allowed}
	case errors.As(err, &verr):
		return problem{Status: 422, Title: "Some answers need changing", Detail: "Check the fields listed in errors.", Errors: verr.Fields}
	case errors.As(err, &rl):
		return problem{Status: 429, Title: "Too many attempts", Detail: rl.Message, retryAfter: int(math.Ceil(rl.RetryAfter.Seconds()))}
	case errors.As(err, &conflict):
		return problem{Status: 409, Title: "This has changed", Detail: conflict.Message}
	case errors.As(err, &refused):
		title := "You cannot sign in"
		if refused.Status == domain.StatusApplicant {
			title = "You cannot sign in yet"
		}
		return problem{Status: 403, Title: title, Detail: refused.Message}
	case errors.As(err, &fe):
		return fiberProblem(fe)
	case errors.Is(err, domain.ErrNotFound):
		return problem{Status: 404, Title: "Not found", Detail: "There is nothing here. It may have been removed, or the address may be mistyped."}
	case errors.Is(err, domain.ErrUnauthenticated):
		return problem{Status: 401, Title: "Sign in needed", Detail: "Sign in, or send a valid API token as Authorization: Bearer <token>."}
	case errors.Is(err, domain.ErrForbidden):
		return problem{Status: 403, Title: "Not allowed", Detail: "Your account does not have access to this. If you think it should, ask a coordinator."}
	case errors.Is(err, domain.ErrUnavailable):
		return problem{Status: 503, Title: "The co-op's database is not answering", Detail: "Nothing you saved before is lost. Please try again in a minute.", retryAfter: 30}
	case errors.Is(err, domain.ErrDuplicate), errors.Is(err, domain.ErrConflict), errors.Is(err, domain.ErrInUse):
		return problem{Status: 409, Title: "This has changed", Detail: "Someone else changed this at the same time. Reload the page and try again."}
	}
	return problem{Status: 500, Title: "Something went wrong on our side", Detail: "It has been logged. Please try again; if it keeps happening, tell a coordinator and quote the reference."}
}

func fiberProblem(fe *fiber.Error) problem {
	switch fe.Code {
	case fiber.StatusNotFound:
		return problem{Status: 404, Title: "Not found", Detail: "There is nothing at this address. It may have been moved, or the address may be mistyped."}
	case fiber.StatusRequestEntityTooLarge:
		return problem{Status: 413, Title: "Too large", Detail: "What you sent is larger than the co-op accepts (1 MB)."}
	case fiber.StatusMethodNotAllowed:
		return problem{Status: 405, Title: "Method not allowed", Detail: "This address does not accept that kind of request."}
	case fiber.StatusInternalServerError:
		return problem{Status: 500, Title: "Something went wrong on our side", Detail: "It has been logged. Please try again; if it keeps happening, tell a coordinator and quote the reference."}
	}
	title := fiber.ErrBadRequest.Message
	if fe.Code >= 400 && fe.Code < 600 {
		title = httpStatusText(fe.Code)
	}
	return problem{Status: fe.Code, Title: title, Detail: fe.Message}
}

func httpStatusText(code int) string {
	switch code {
	case 400:
		return "Bad request"
	case 403:
		return "Not allowed"
	case 408:
		return "Request timed out"
	case 415:
		return "Unsupported content type"
	case 431:
		return "Headers too large"
	}
	return "Request refused"
}

// handleError is Fiber's error handler: problem+json under /api/, the form again for a failed
// form, else an error page. Internal error text is logged, never shown.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	p := problemFor(err)
	p.RequestID = requestID(c)
	switch {
	case p.Status >= 500 && p.Status != 503:
		s.log.Error("request failed", "request_id", p.RequestID, "method", c.Method(), "path", c.Path(), "err", err)
	case p.Status == 503:
		s.log.Warn("database unavailable", "request_id", p.RequestID, "path", c.Path(), "err", err)
	}
	if p.retryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(p.retryAfter))
	}
	if isAPI(c.Path()) {
		p.Type = "about:blank"
		p.Instance = c.Path()
		c.Status(p.Status)
		c.Set(fiber.HeaderContentType, "application/problem+json")
		body, merr := jsonMarshal(p)
		if merr != nil {
			return merr
		}
		return c.Send(body)
	}
	var form *formError
	if errors.As(err, &form) && p.Status != fiber.StatusNotFound {
		rerr := form.render(p)
		if rerr == nil {
			return nil
		}
		s.log.Error("form could not be shown again", "request_id", p.RequestID, "err", rerr)
	}
	return s.renderErrorPage(c, p)
}

func (s *Server) renderErrorPage(c *fiber.Ctx, p problem) error {
	c.Status(p.Status)
	err := s.render(c, p.Status, "pages/error", p.Title, fiber.Map{"Problem": p, "SignInLink": p.Status == 401})
	if err != nil {
		// The template itself failed: say something plain rather than nothing.
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(p.Status).SendString(fmt.Sprintf("%s\n\n%s\n\nReference: %s\n", p.Title, p.Detail, p.RequestID))
	}
	return nil
}
