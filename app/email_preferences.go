package app

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// emailPreferencesPage is GET /account/email: a checkbox for each kind of email.
func (s *Server) emailPreferencesPage(c *fiber.Ctx) error {
	prefs, err := s.svc.Preferences.EmailPreferences(c.UserContext(), s.actor(c), currentMember(c).ID)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "pages/email-preferences", "Emails you get", fiber.Map{"Preferences": prefs})
}

// setEmailPreferences is POST /account/email. A browser sends only the boxes that are ticked, so
// every kind not sent is one the member does not want.
func (s *Server) setEmailPreferences(c *fiber.Ctx) error {
	wants := map[string]bool{}
	for _, k := range domain.EmailKinds {
		wants[k.Kind] = c.FormValue("email_"+k.Kind) == "yes"
	}
	if _, err := s.svc.Preferences.SetEmailPreferences(c.UserContext(), s.actor(c), currentMember(c).ID, wants); err != nil {
		return err
	}
	s.flash(c, "Your email choices have been saved.")
	return c.Redirect("/account/email", fiber.StatusSeeOther)
}

// emailPreferenceJSON is one kind of email and whether the member wants it.
type emailPreferenceJSON struct {
	Kind        string `json:"kind"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Wants       bool   `json:"wants"`
}

type emailPreferencesJSON struct {
	Items []emailPreferenceJSON `json:"items"`
}

func toEmailPreferencesJSON(prefs []domain.EmailPreference) emailPreferencesJSON {
	out := emailPreferencesJSON{Items: make([]emailPreferenceJSON, len(prefs))}
	for i, p := range prefs {
		out.Items[i] = emailPreferenceJSON{Kind: p.Kind, Label: p.Label, Description: p.Hint, Wants: p.Wants}
	}
	return out
}

// apiEmailPreferences is GET /api/v1/me/email-preferences.
func (s *Server) apiEmailPreferences(c *fiber.Ctx) error {
	prefs, err := s.svc.Preferences.EmailPreferences(c.UserContext(), s.actor(c), currentMember(c).ID)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toEmailPreferencesJSON(prefs))
}

// apiSetEmailPreferences is PUT /api/v1/me/email-preferences with {"<kind>": true|false, ...};
// kinds not named keep their setting.
func (s *Server) apiSetEmailPreferences(c *fiber.Ctx) error {
	// Read the values one by one, so that a value that is not true or false is named.
	var raw map[string]json.RawMessage
	if err := decodeJSON(c, &raw); err != nil {
		return err
	}
	wants := make(map[string]bool, len(raw))
	v := &domain.ValidationError{}
	for _, kind := range slices.Sorted(maps.Keys(raw)) {
		var w bool
		if err := json.Unmarshal(raw[kind], &w); err != nil || string(raw[kind]) == "null" {
			v.Add(kind, "Must be true or false")
			continue
		}
		wants[kind] = w
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	prefs, err := s.svc.Preferences.SetEmailPreferences(c.UserContext(), s.actor(c), currentMember(c).ID, wants)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toEmailPreferencesJSON(prefs))
}
