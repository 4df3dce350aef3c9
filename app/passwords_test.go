package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/email"
	"github.com/coop-exchange/coop/internal/mailtest"
)

// mailOutbox sends every email in the outbox through the real sender to a mail server in the
// test, and returns what that server received.
func (h *harness) mailOutbox() []mailtest.Received {
	h.t.Helper()
	srv := mailtest.Start(h.t)
	cfg, err := email.ParseSMTPURL(srv.URL("The Co-op <coop@example.org>"))
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := email.NewRenderer(h.base)
	if err != nil {
		h.t.Fatal(err)
	}
	sender := email.NewSender(r, email.NewSMTP(cfg))
	msgs, err := h.st.ListOutbox(context.Background(), domain.OutboxPending, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Channel != domain.ChannelEmail {
			continue
		}
		if err := sender.Send(context.Background(), msgs[i]); err != nil {
			h.t.Fatal(err)
		}
		if err := h.st.MarkDelivered(context.Background(), msgs[i].ID, msgs[i].CreatedAt); err != nil {
			h.t.Fatal(err)
		}
	}
	return srv.Received()
}

var passwordLinkInText = regexp.MustCompile(`https?://[^\s]+(/password/set\?token=[^\s]+)`)

// passwordLinkTo returns the path of the set-password link in the one email to the address to.
func (h *harness) passwordLinkTo(to string) string {
	h.t.Helper()
	var links []string
	for _, m := range h.mailOutbox() {
		if len(m.To) == 1 && m.To[0] == to {
			if sub := passwordLinkInText.FindStringSubmatch(m.Text); sub != nil {
				links = append(links, sub[1])
			}
		}
	}
	if len(links) != 1 {
		h.t.Fatalf("%d emails with a link to set a password reached %s, want 1", len(links), to)
	}
	return links[0]
}

// TestCoordinatorEmailsAPasswordLink follows someone added without a password, as a services
// user would be: the coordinator presses the button on their page, the email arrives, the link's
// page changes nothing until its form is sent, the password is set and works, and the link then
// says it has been used.
func TestCoordinatorEmailsAPasswordLink(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		sam, err := h.svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: "Sam Taylor",
			Email: "sam@example.org", Phone: "01632 960 002", AreaID: h.area.ID, Role: domain.RoleServices, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		page := "/coordinate/members/" + itoa(sam.ID)
		coord := h.as(domain.RoleCoordinator)
		expectText(t, coord.get(page), http.StatusOK, "no password set", "Email a link to set a password")
		res := coord.postForm(page+"/password-link", nil)
		expectStatus(t, res, http.StatusSeeOther)
		expectText(t, coord.get(res.Header.Get("Location")), http.StatusOK, "We have emailed Sam a link to set a password")

		link := h.passwordLinkTo("sam@example.org")
		token := link[strings.Index(link, "=")+1:]
		v := h.visitor()
		expectText(t, v.get(link), http.StatusOK, "Set your password", "sam@example.org", `autocomplete="new-password"`)
		if m, _ := h.st.Member(ctx, sam.ID); m.PasswordHash != "" {
			t.Fatal("opening the link set a password")
		}

		// Without the page's form token, nothing happens; two different passwords, or a short
		// one, show the form again with the fields to change.
		expectStatus(t, v.postForm("/password/set", url.Values{"token": {token}, "password": {"a brand new passphrase"},
			"password_confirm": {"a brand new passphrase"}, "_csrf": {"forged"}}), http.StatusForbidden)
		expectText(t, v.postForm("/password/set", url.Values{"token": {token}, "password": {"a brand new passphrase"},
			"password_confirm": {"a brand new passphrose"}}), http.StatusUnprocessableEntity, "Enter the same password twice", `href="#f-password_confirm"`)
		expectText(t, v.postForm("/password/set", url.Values{"token": {token}, "password": {"short"}, "password_confirm": {"short"}}),
			http.StatusUnprocessableEntity, "at least 10 characters")
		if m, _ := h.st.Member(ctx, sam.ID); m.PasswordHash != "" {
			t.Fatal("a refused form set a password")
		}

		res = v.postForm("/password/set", url.Values{"token": {token}, "password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}})
		expectStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/signin" {
			t.Fatalf("after setting the password, sent to %q, want /signin", loc)
		}
		expectText(t, v.get("/signin"), http.StatusOK, "Your password is set")
		res = v.postForm("/signin", url.Values{"email": {"sam@example.org"}, "password": {"a brand new passphrase"}})
		expectStatus(t, res, http.StatusSeeOther)

		// Used, the link says so, to anyone; so does a forged one.
		used := "This link has expired or has been used; ask for a new one"
		expectText(t, h.visitor().get(link), http.StatusForbidden, used, `href="/password/forgot"`)
		other := h.visitor()
		other.get("/password/forgot") // for a form token: the used link shows no form
		expectText(t, other.postForm("/password/set", url.Values{"token": {token}, "password": {"someone else's passphrase"},
			"password_confirm": {"someone else's passphrase"}}), http.StatusForbidden, used)
		expectText(t, h.visitor().get("/password/set?token=1.99999999999.0123456789abcdef0123456789abcdef"), http.StatusForbidden, used)
	})
}

// TestPasswordLinkButtonNeedsAnAddress checks that the member page offers no button for someone
// with no email address, and says why.
func TestPasswordLinkButtonNeedsAnAddress(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		dee, err := h.svc.Membership.AddMember(context.Background(), domain.SystemActor("test"), domain.NewMemberInput{Name: "Dee Phoneonly",
			Phone: "01632 960 001", AreaID: h.area.ID, Role: domain.RoleMember, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		coord := h.as(domain.RoleCoordinator)
		res := coord.get("/coordinate/members/" + itoa(dee.ID))
		expectText(t, res, http.StatusOK, "has no email address, so they cannot be sent a link")
		if strings.Contains(body(res), "Email a link to set a password") {
			t.Error("the page offers a link to someone with no email address")
		}
		expectText(t, coord.postForm("/coordinate/members/"+itoa(dee.ID)+"/password-link", nil), http.StatusUnprocessableEntity,
			"has no email address")
	})
}

// TestForgotPasswordPage asks for a link from the sign-in page: a member's address and a
// stranger's get the same answer, only the member gets an email, and the link works.
func TestForgotPasswordPage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		v := h.visitor()
		expectText(t, v.get("/signin"), http.StatusOK, `href="/password/forgot"`)
		expectText(t, v.get("/password/forgot"), http.StatusOK, "Forgotten your password?", `name="email"`)

		answer := func(email, ip string) (int, string) {
			c := h.visitor()
			c.ip = ip
			c.get("/password/forgot")
			res := c.postForm("/password/forgot", url.Values{"email": {email}})
			return res.StatusCode, strings.ReplaceAll(body(res), email, "EMAIL")
		}
		memberStatus, memberAnswer := answer("member@example.org", "192.0.2.21")
		strangerStatus, strangerAnswer := answer("nobody@example.org", "192.0.2.22")
		if memberStatus != http.StatusOK || !strings.Contains(memberAnswer, "Check your email") {
			t.Fatalf("a member's address: status %d:\n%.1500s", memberStatus, memberAnswer)
		}
		if strangerStatus != memberStatus || strangerAnswer != memberAnswer {
			t.Errorf("the answers differ:\nmember (%d):\n%s\nstranger (%d):\n%s", memberStatus, memberAnswer, strangerStatus, strangerAnswer)
		}

		link := h.passwordLinkTo("member@example.org")
		for _, m := range h.mailOutbox() {
			t.Errorf("another email was sent, to %v", m.To)
		}
		c := h.visitor()
		c.get(link)
		token := link[strings.Index(link, "=")+1:]
		expectStatus(t, c.postForm("/password/set", url.Values{"token": {token}, "password": {"a remembered passphrase"},
			"password_confirm": {"a remembered passphrase"}}), http.StatusSeeOther)
		expectStatus(t, c.postForm("/signin", url.Values{"email": {"member@example.org"}, "password": {"a remembered passphrase"}}), http.StatusSeeOther)

		// A malformed address is a field error; asking too often for one address is refused,
		// from any network, whether or not it is a member's.
		expectText(t, v.postForm("/password/forgot", url.Values{"email": {"not an address"}}), http.StatusUnprocessableEntity, `href="#f-email"`)
		for i := range 3 {
			if status, _ := answer("someone@example.org", "192.0.2."+itoa(int64(30+i))); status != http.StatusOK {
				t.Fatalf("request %d: status %d", i+1, status)
			}
		}
		status, page := answer("someone@example.org", "192.0.2.40")
		if status != http.StatusTooManyRequests || !strings.Contains(page, "several requests for a password link") || !strings.Contains(page, `name="email"`) {
			t.Errorf("a fourth request: status %d:\n%.1500s", status, page)
		}
	})
}
