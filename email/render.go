package email

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"

	"github.com/coop-exchange/coop/domain"
)

// templatesFS holds, for each kind of email, KIND.txt (its subject, its action and its plain-text
// body) and KIND.html (its action and its HTML body), and the layouts around them.
//
//go:embed templates/*.txt templates/*.html
var templatesFS embed.FS

// PreferencesPath is the page where members choose which emails they get; every email links to it.
const PreferencesPath = "/account/email"

// Renderer turns an outbox email into a message, with links on the co-op's base URL.
type Renderer struct {
	base *url.URL
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// NewRenderer parses every kind's templates, failing at start-up rather than at the first email:
// the kinds members get, in layout.*, and the kinds formal services get (domain.ServiceEmailKind),
// in layout-service.*, which greets no one by name and offers no unsubscribing.
func NewRenderer(base *url.URL) (*Renderer, error) {
	r := &Renderer{base: base, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	kinds := map[string]string{} // kind: its layout
	for _, k := range domain.EmailKinds {
		kinds[k.Kind] = "layout"
	}
	for _, kind := range domain.AccountEmailKinds {
		kinds[kind] = "layout" // an account email is not a choice: no preferences link
	}
	for _, kind := range domain.WebhookEvents {
		kinds[kind] = "layout-service"
	}
	for kind, layout := range kinds {
		t, err := texttemplate.New(layout+".txt").Option("missingkey=zero").
			ParseFS(templatesFS, "templates/"+layout+".txt", "templates/"+kind+".txt")
		if err != nil {
			return nil, fmt.Errorf("email: %s text template: %w", kind, err)
		}
		h, err := htmltemplate.New(layout+".html").Option("missingkey=zero").
			ParseFS(templatesFS, "templates/"+layout+".html", "templates/"+kind+".html")
		if err != nil {
			return nil, fmt.Errorf("email: %s HTML template: %w", kind, err)
		}
		for _, name := range []string{"subject", "action", "body"} {
			if t.Lookup(name) == nil {
				return nil, fmt.Errorf("email: %s.txt defines no %q", kind, name)
			}
		}
		for _, name := range []string{"action", "body"} {
			if h.Lookup(name) == nil {
				return nil, fmt.Errorf("email: %s.html defines no %q", kind, name)
			}
		}
		r.text[kind], r.html[kind] = t, h
	}
	return r, nil
}

// view is what the templates see.
type view struct {
	Name            string            // the member's first name; "" in a service's email
	Data            map[string]string // the values the email was written with
	Link            string            // the page to act on, in full
	PreferencesLink string            // the page to choose which emails they get, in full; "" in a service's or an account email
}

// Render makes the message for one email to the address to; key identifies it across attempts.
// A member's email is addressed to them by name and may be unsubscribed from; a service's email
// (domain.ServiceEmailKind) is addressed to the service, and may not.
func (r *Renderer) Render(to, key string, p domain.EmailPayload) (Message, error) {
	t, h := r.text[p.Template], r.html[p.Template]
	if t == nil || h == nil {
		return Message{}, fmt.Errorf("email: %w for kind %q", errNoTemplate, p.Template)
	}
	service := domain.ServiceEmailKind(p.Template)
	v := view{Data: p.Data}
	if v.Data == nil {
		v.Data = map[string]string{}
	}
	link, err := r.link(p.Link)
	if err != nil {
		return Message{}, fmt.Errorf("email: %s: %w", p.Template, err)
	}
	v.Link = link
	toName := v.Data[domain.EmailDataService]
	if !service {
		v.Name, toName = firstName(p.Name), p.Name
		if !domain.AccountEmailKind(p.Template) {
			v.PreferencesLink = r.base.String() + PreferencesPath
		}
	}
	var subject, text, html bytes.Buffer
	if err := t.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Message{}, fmt.Errorf("email: %s subject: %w", p.Template, err)
	}
	if err := t.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("email: %s text: %w", p.Template, err)
	}
	if err := h.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("email: %s HTML: %w", p.Template, err)
	}
	headers := [][2]string{{"Auto-Submitted", "auto-generated"}} // RFC 3834: no out-of-office replies, please
	if v.PreferencesLink != "" {
		headers = append(headers, [2]string{"List-Unsubscribe", "<" + v.PreferencesLink + ">"})
	}
	return Message{
		To: to, ToName: toName, Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text: tidyText(text.String()), HTML: html.String(),
		MessageID: key + "@" + messageDomain(r.base),
		Headers:   headers,
	}, nil
}

// link makes an email's link whole: a path is put on the co-op's base URL (the home page when
// there is none); an absolute web address, as a service's email holds, is kept as it is, not put
// on the base URL a second time.
func (r *Renderer) link(l string) (string, error) {
	switch {
	case l == "":
		return r.base.String() + "/", nil
	case strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//"):
		return r.base.String() + l, nil
	}
	u, err := url.Parse(l)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("the link %q is neither a path nor a web address", l)
	}
	return l, nil
}

// firstName is how an email greets a member.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return "there"
}

// tidyText trims trailing spaces and runs of blank lines that template actions leave behind.
func tidyText(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}
