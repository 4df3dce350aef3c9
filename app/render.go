package app

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

//go:embed templates
var templatesFS embed.FS

// render shows a page inside the site layout. data may be nil; the layout's own values (who is
// signed in, the CSRF token, a flash message) are added here.
func (s *Server) render(c *fiber.Ctx, status int, name, title string, data fiber.Map) error {
	if data == nil {
		data = fiber.Map{}
	}
	data["Title"] = title
	data["Me"] = currentMember(c)
	if data["Me"].(*domain.Member) != nil {
		data["Unread"] = s.unread(c)
	}
	data["CSRF"] = s.csrf.token(c)
	data["Path"] = c.Path()
	if _, ok := data["Flash"]; !ok {
		data["Flash"] = s.takeFlash(c)
	}
	if _, ok := data["Form"]; !ok {
		data["Form"] = map[string]string{}
	}
	c.Status(status)
	return c.Render(name, data, "layouts/base")
}

// formPage holds what a form shows again after a failed attempt.
type formPage struct {
	Values       map[string]string
	Errors       *domain.ValidationError
	SummaryTitle string // the heading of the error summary, when the problem is not about fields
	Summary      string
}

// failed turns a problem into what the form shows.
func failed(values map[string]string, p problem) formPage {
	fp := formPage{Values: values}
	if len(p.Errors) > 0 {
		fp.Errors = &domain.ValidationError{Fields: p.Errors}
	} else {
		fp.SummaryTitle, fp.Summary = p.Title, p.Detail
	}
	return fp
}

// fieldView is what the "field" templates need to draw one labelled input.
type fieldView struct {
	Name, Label, Type, Autocomplete, Hint, Value, Error string
	Required                                            bool
}

func (s *Server) templateFuncs() template.FuncMap {
	loc := s.cfg.Location
	return template.FuncMap{
		"asset": func(p string) string {
			if v, ok := s.assets[p]; ok {
				return v
			}
			return "/static/" + p
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("2 January 2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("2 January 2006, 15:04")
		},
		"isotime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		// field draws a text-like input: name, label, type, autocomplete, hint. The value and the
		// error come from the page's Form and Errors.
		"field": func(page fiber.Map, name, label, typ, autocomplete, hint string) fieldView {
			return fieldView{Name: name, Label: label, Type: typ, Autocomplete: autocomplete, Hint: hint,
				Value: formValue(page, name), Error: fieldError(page, name), Required: true}
		},
		"optional": func(f fieldView) fieldView { f.Required = false; return f },
		"value":    formValue,
		"error":    fieldError,
		"describedby": func(page fiber.Map, name string, hint bool) string {
			var ids []string
			if hint {
				ids = append(ids, "f-"+name+"-hint")
			}
			if fieldError(page, name) != "" {
				ids = append(ids, "f-"+name+"-error")
			}
			return strings.Join(ids, " ")
		},
		"selected":  func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
		"roleLabel": func(r domain.Role) string { return r.Label() },
		"areaLabel": func(areas []domain.Area, id int64) string {
			for _, a := range areas {
				if a.ID == id {
					return a.Label()
				}
			}
			return "—"
		},
		"join":     strings.Join,
		"duration": domain.Duration,
		// hours words minutes as hours: "12 hours 30 minutes", or "none".
		"hours": func(minutes int) string {
			if minutes == 0 {
				return "none"
			}
			return domain.Duration(minutes)
		},
		"list": func(v ...any) []any { return v },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m, nil
		},
		"roles": func() []domain.Role { return domain.Roles },
		// slotsText: "Tuesdays 13:00–17:00; Saturdays 09:00–12:00".
		"slotsText": func(slots []domain.Slot) string {
			parts := make([]string, len(slots))
			for i, sl := range slots {
				parts[i] = sl.Day.String() + "s " + domain.FormatClock(sl.From) + "–" + domain.FormatClock(sl.To)
			}
			return strings.Join(parts, "; ")
		},
		// when: "Tuesday 10 March 2026, 09:00–11:00", or both days when it ends on the next.
		"when": func(start, end time.Time) string {
			a, b := start.In(loc), end.In(loc)
			if a.Format("2006-01-02") == b.Format("2006-01-02") {
				return a.Format("Monday 2 January 2006, 15:04") + "–" + b.Format("15:04")
			}
			return a.Format("Monday 2 January 2006, 15:04") + " to " + b.Format("Monday 2 January, 15:04")
		},
		"category": categoryOf,
		// distance: how far a post's area is from the viewer's, roughly.
		"distance": func(areas []domain.Area, from, to int64) string {
			var a, b *domain.Area
			for i := range areas {
				if areas[i].ID == from {
					a = &areas[i]
				}
				if areas[i].ID == to {
					b = &areas[i]
				}
			}
			if a == nil || b == nil {
				return ""
			}
			if a.ID == b.ID {
				return "in your area"
			}
			km := domain.DistanceKm(a.Lat, a.Lon, b.Lat, b.Lon)
			if km < 1 {
				return "under 1 km away"
			}
			return fmt.Sprintf("about %.0f km away", km)
		},
		// forWhom: how a neighbour reads who a request is for: "for their mum".
		"forWhom": func(p *domain.SupportedPerson) string {
			if p == nil {
				return ""
			}
			rel := strings.TrimSpace(p.Relationship)
			if rest, ok := strings.CutPrefix(strings.ToLower(rel), "my "); ok {
				return "for their " + rest
			}
			return "for someone they support (" + rel + ")"
		},
		"inc": func(i int) int { return i + 1 },
		// plural picks the word for a count: plural 1 "match" "matches".
		"plural": plural,
		// seconds says how long something took: "40 milliseconds", "2.5 seconds", "12 seconds".
		"seconds": func(d time.Duration) string {
			if d < time.Second {
				return fmt.Sprintf("%d milliseconds", d.Milliseconds())
			}
			if d < 10*time.Second {
				return fmt.Sprintf("%.1f seconds", d.Seconds())
			}
			return fmt.Sprintf("%.0f seconds", d.Seconds())
		},
		"dayCode": domain.DayCode,
		"days":    func() []time.Weekday { return domain.DaysFromMonday },
		"clock":   domain.FormatClock,
		// under reports whether path is prefix or a page below it, for marking the current section.
		"under": func(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") },
		// excerpt shortens long text for a table cell.
		"excerpt": func(s string) string {
			r := []rune(s)
			if len(r) <= 140 {
				return s
			}
			return strings.TrimSpace(string(r[:140])) + "…"
		},
	}
}

func formValue(page fiber.Map, name string) string {
	if f, ok := page["Form"].(map[string]string); ok {
		return f[name]
	}
	return ""
}

func fieldError(page fiber.Map, name string) string {
	if e, ok := page["Errors"].(*domain.ValidationError); ok && e != nil {
		return e.Message(name)
	}
	return ""
}

// jsonMarshal encodes v without escaping <, > and & (the API is not HTML).
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// into adds the form's values, errors and summary to a page's data.
func (fp formPage) into(data fiber.Map) fiber.Map {
	if fp.Values == nil {
		fp.Values = map[string]string{}
	}
	data["Form"] = fp.Values
	data["Errors"] = fp.Errors
	data["Summary"] = fp.Summary
	data["SummaryTitle"] = fp.SummaryTitle
	return data
}
