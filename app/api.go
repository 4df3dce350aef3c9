package app

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// decodeJSON reads the request body into dst, strictly: unknown fields and wrong types are field
// errors the caller can act on; an empty body counts as {} so that every missing field is named.
func decodeJSON(c *fiber.Ctx, dst any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return fiber.NewError(fiber.StatusBadRequest, "The body must hold exactly one JSON object.")
		}
		return nil
	}
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("The body is not valid JSON (at byte %d): %v", syntax.Offset, syntax))
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fiber.NewError(fiber.StatusBadRequest, "The body must be a JSON object.")
		}
		return domain.Invalid(typeErr.Field, "Must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.Invalid(field, "There is no field %q here; check the spelling against the API description", field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fiber.NewError(fiber.StatusBadRequest, "The body is not valid JSON: it ends too soon.")
	}
	return fiber.NewError(fiber.StatusBadRequest, "The body could not be read as JSON: "+err.Error())
}

func jsonKind(kind string) string {
	switch kind {
	case "int", "int64", "int32", "uint", "uint64", "float64", "float32":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return kind
}

// list is the shape of every list answer.
type list[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

// pageQuery reads ?limit= and ?cursor= (an opaque value from a previous answer's next).
func pageQuery(c *fiber.Ctx) (domain.PageQuery, error) {
	var q domain.PageQuery
	v := &domain.ValidationError{}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > domain.MaxPageSize {
			v.Add("limit", "Give a limit between 1 and %d", domain.MaxPageSize)
		}
		q.Limit = n
	}
	if cur := c.Query("cursor"); cur != "" {
		after, ok := decodeCursor(cur)
		if !ok {
			v.Add("cursor", "This cursor is not one the API gave; start again without it")
		}
		q.After = after
	}
	return q, v.OrNil()
}

func encodeCursor(after int64) *string {
	if after == 0 {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString([]byte("a" + strconv.FormatInt(after, 10)))
	return &s
}

func decodeCursor(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != 'a' {
		return 0, false
	}
	return domain.ParseID(string(b[1:]))
}

func listOf[T, J any](p domain.Page[T], conv func(T) J) list[J] {
	out := list[J]{Items: make([]J, len(p.Items)), Next: encodeCursor(p.Next)}
	for i, it := range p.Items {
		out.Items[i] = conv(it)
	}
	return out
}

// sendJSON answers with v as JSON and the given status.
func sendJSON(c *fiber.Ctx, status int, v any) error {
	body, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(body)
}

// idParam reads the :id route parameter; a malformed id is simply not found.
func idParam(c *fiber.Ctx) (int64, error) {
	id, ok := domain.ParseID(c.Params("id"))
	if !ok {
		return 0, domain.ErrNotFound
	}
	return id, nil
}
