// Package fhir exports an escalation to a formal service as HL7 FHIR R4: a Bundle shaped like the
// SDOH Clinical Care referral (a ServiceRequest for the need and a Task for the escalation's
// life), with the minimal Patient, the Consent to pass the need on, the receiving service as a
// HealthcareService and its Organization, and the co-op as the requesting Organization
// (docs/standards.md). It claims no profile (in particular not US Core) and uses UK identifiers
// only. It is pure: it reads a domain.EscalationRecord and writes JSON.
package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/coop-exchange/coop/domain"
)

// Code systems and identifier systems the export uses.
const (
	// ESDServiceSystem is the LGA's list of service types (esd standards), the taxonomy UK
	// directories use.
	ESDServiceSystem = "http://id.esd.org.uk/service"
	// HSDSServiceSystem names a service by its id in the Open Referral (HSDS) directory it was
	// imported from.
	HSDSServiceSystem = "https://openreferral.org/hsds/service"
	// TaskCodeSystem is FHIR's code system of task codes (fulfill).
	TaskCodeSystem = "http://hl7.org/fhir/CodeSystem/task-code"

	consentScopeSystem    = "http://terminology.hl7.org/CodeSystem/consentscope"
	actCodeSystem         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	participationSystem   = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	snomedSystem          = "http://snomed.info/sct"
	socialServiceSNOMED   = "410606002" // Social service procedure, the SDOHCC referral's category
	fhirPath              = "/fhir"     // below BaseURL: where the bundle's resources are named
	coopOrganizationID    = "coop"
	escalationIDSystem    = "/escalation" // below BaseURL
	requestIDSystem       = "/request"    // below BaseURL
	coopServiceIDSystem   = "/service"    // below BaseURL: the co-op's own id of a service
	outcomeOutputTypeText = "Outcome: what the service did"
)

// ServiceRequestStatus is the status of the escalation's ServiceRequest: the co-op's order to
// this service, as against the Task, which is the service's work on it.
//
//   - draft (waiting for a coordinator) → draft: the order is not ready to act on.
//   - requested, accepted, in-progress → active: the order stands.
//   - on-hold → active: it is the service that has paused its work (the Task); the co-op has not
//     suspended the order, which ServiceRequest on-hold would say.
//   - completed → completed.
//   - rejected, failed, cancelled → revoked: the order to this service ended before it was
//     fulfilled. A new escalation of the same need to another service is a new ServiceRequest.
//   - entered-in-error → entered-in-error.
func ServiceRequestStatus(s domain.EscalationStatus) string {
	switch s {
	case domain.EscalationDraft:
		return "draft"
	case domain.EscalationRequested, domain.EscalationAccepted, domain.EscalationInProgress, domain.EscalationOnHold:
		return "active"
	case domain.EscalationCompleted:
		return "completed"
	case domain.EscalationRejected, domain.EscalationFailed, domain.EscalationCancelled:
		return "revoked"
	case domain.EscalationEnteredInError:
		return "entered-in-error"
	}
	return "unknown"
}

// Priority is the FHIR request priority of an urgency: soon is "asap", the rest by name.
func Priority(u domain.Urgency) string {
	switch u {
	case domain.Urgent:
		return "urgent"
	case domain.Soon:
		return "asap"
	case domain.Routine:
		return "routine"
	}
	return ""
}

// ErrNoConsent is returned for an escalation with no recorded consent to pass the need on: it
// must not leave the co-op.
var ErrNoConsent = errors.New("fhir: the escalation has no recorded consent to pass the need on")

// Bundle writes an escalation as a FHIR R4 collection Bundle. Its resources are named by
// absolute URLs below rec.BaseURL + "/fhir", stable for the escalation, and every reference
// in it points at one of its entries. The person's first name and phone number go only when
// the consent covers contact details, whatever the record holds; an NHS number only when its
// check digit is right.
func Bundle(rec domain.EscalationRecord) ([]byte, error) {
	b, err := newBuilder(rec)
	if err != nil {
		return nil, err
	}
	doc := b.bundle()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // the Consent's narrative is XHTML; keep it readable
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("fhir: write escalation %d: %w", rec.ID, err)
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// builder holds the record and the URLs of the bundle's entries while it is written.
type builder struct {
	rec  domain.EscalationRecord
	base string // rec.BaseURL without a trailing slash
	id   string // the resource id shared by the escalation's own resources

	hasService bool
	serviceID  string // the HealthcareService's and its Organization's resource ids
}

func newBuilder(rec domain.EscalationRecord) (*builder, error) {
	if rec.ID <= 0 {
		return nil, fmt.Errorf("fhir: escalation id %d: not a saved escalation", rec.ID)
	}
	if !slices.Contains(domain.EscalationStatuses, rec.Status) {
		return nil, fmt.Errorf("fhir: escalation %d: unknown status %q", rec.ID, rec.Status)
	}
	u, err := url.Parse(strings.TrimSpace(rec.BaseURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("fhir: escalation %d: base URL %q is not an absolute http(s) URL", rec.ID, rec.BaseURL)
	}
	if rec.ConsentGivenAt.IsZero() {
		return nil, fmt.Errorf("escalation %d: %w", rec.ID, ErrNoConsent)
	}
	b := &builder{rec: rec, base: strings.TrimRight(u.String(), "/"), id: "escalation-" + strconv.FormatInt(rec.ID, 10)}
	b.hasService = rec.ServiceID > 0 || text(rec.ServiceName) != "" || text(rec.Organisation) != "" || text(rec.ServiceSourceID) != ""
	b.serviceID = "service-" + strconv.FormatInt(rec.ServiceID, 10)
	return b, nil
}

// fullURL names a resource of the bundle.
func (b *builder) fullURL(resourceType, id string) string {
	return b.base + fhirPath + "/" + resourceType + "/" + id
}

func (b *builder) ref(resourceType, id, display string) Reference {
	return Reference{Reference: b.fullURL(resourceType, id), Type: resourceType, Display: text(display)}
}

func (b *builder) patientRef() Reference { return b.ref("Patient", b.id, "") }

func (b *builder) coopRef() *Reference {
	r := b.ref("Organization", coopOrganizationID, b.coopName())
	return &r
}

func (b *builder) coopName() string {
	if n := text(b.rec.CoopName); n != "" {
		return n
	}
	u, _ := url.Parse(b.base)
	return u.Host
}

// receiverName is the receiving organisation's name, or the service's when the directory gave
// no organisation.
func (b *builder) receiverName() string {
	if n := text(b.rec.Organisation); n != "" {
		return n
	}
	if n := text(b.rec.ServiceName); n != "" {
		return n
	}
	return "Service " + strconv.FormatInt(b.rec.ServiceID, 10)
}

// serviceIdentifier is the service's HSDS id when it was imported from a directory, else the
// co-op's own id of it.
func (b *builder) serviceIdentifier() Identifier {
	if id := text(b.rec.ServiceSourceID); id != "" {
		return Identifier{System: HSDSServiceSystem, Value: id}
	}
	return Identifier{System: b.base + coopServiceIDSystem, Value: strconv.FormatInt(b.rec.ServiceID, 10)}
}

func (b *builder) bundle() BundleDoc {
	rec := b.rec
	entries := []BundleEntry{
		{b.fullURL("Task", b.id), b.task()},
		{b.fullURL("ServiceRequest", b.id), b.serviceRequest()},
		{b.fullURL("Patient", b.id), b.patient()},
		{b.fullURL("Consent", b.id), b.consent()},
		{b.fullURL("Organization", coopOrganizationID), Organization{ResourceType: "Organization", ID: coopOrganizationID, Name: b.coopName()}},
	}
	if b.hasService {
		sid := b.serviceIdentifier()
		org := b.ref("Organization", b.serviceID, b.receiverName())
		entries = append(entries,
			BundleEntry{b.fullURL("HealthcareService", b.serviceID), HealthcareService{ResourceType: "HealthcareService", ID: b.serviceID,
				Identifier: []Identifier{sid}, ProvidedBy: &org, Name: text(rec.ServiceName)}},
			BundleEntry{b.fullURL("Organization", b.serviceID), Organization{ResourceType: "Organization", ID: b.serviceID, Name: b.receiverName()}})
	}
	return BundleDoc{
		ResourceType: "Bundle",
		ID:           b.id,
		Identifier:   &Identifier{System: b.base + escalationIDSystem, Value: strconv.FormatInt(rec.ID, 10)},
		Type:         "collection",
		Timestamp:    instant(rec.UpdatedAt),
		Entry:        entries,
	}
}

func (b *builder) serviceRequest() ServiceRequest {
	rec := b.rec
	sr := ServiceRequest{
		ResourceType: "ServiceRequest",
		ID:           b.id,
		Status:       ServiceRequestStatus(rec.Status),
		Intent:       "order",
		Category:     b.category(),
		Priority:     Priority(rec.Urgency),
		Subject:      b.patientRef(),
		Requester:    b.coopRef(),
		SupportingInfo: []Reference{
			b.ref("Consent", b.id, "Consent to pass the need on"),
		},
	}
	if rec.RequestID > 0 {
		sr.Identifier = []Identifier{{System: b.base + requestIDSystem, Value: strconv.FormatInt(rec.RequestID, 10)}}
	}
	if d := text(rec.Description); d != "" {
		sr.Code = &CodeableConcept{Text: d}
	} else if c := text(rec.CategoryName); c != "" {
		sr.Code = &CodeableConcept{Text: c}
	}
	sr.OccurrencePeriod = period(rec.Start, rec.End)
	// It became an order to act on when it was sent; a draft has only been written.
	sr.AuthoredOn = dateTime(rec.SentAt)
	if sr.AuthoredOn == "" {
		sr.AuthoredOn = dateTime(rec.CreatedAt)
	}
	if b.hasService {
		sid := b.serviceIdentifier()
		perf := b.ref("HealthcareService", b.serviceID, rec.ServiceName)
		perf.Identifier = &sid
		sr.Performer = []Reference{perf}
	}
	if r := text(rec.Reason); r != "" {
		sr.ReasonCode = []CodeableConcept{{Text: r}}
	}
	if t := text(rec.Tried); t != "" {
		sr.Note = append(sr.Note, Annotation{AuthorString: b.coopName(), Text: markdown("What the co-op tried: " + t)})
	}
	if rec.ForSomeoneElse {
		sr.Note = append(sr.Note, Annotation{AuthorString: b.coopName(),
			Text: "A member asked for this on behalf of someone they care for; the person it is for is the subject."})
	}
	return sr
}

// category is the co-op's category in words, with the LGA service types among its taxonomy terms
// as codings, after the SDOHCC referral's "social service procedure".
func (b *builder) category() []CodeableConcept {
	out := []CodeableConcept{{Coding: []Coding{{System: snomedSystem, Code: socialServiceSNOMED, Display: "Social service procedure"}}}}
	cat := CodeableConcept{Text: text(b.rec.CategoryName), Coding: ESDCodings(b.rec.TaxonomyTerms)}
	if cat.Text == "" {
		cat.Text = text(b.rec.CategorySlug)
	}
	if cat.Text != "" || len(cat.Coding) > 0 {
		out = append(out, cat)
	}
	return out
}

var (
	esdCURIE = regexp.MustCompile(`^(?i:esdServiceType):([0-9]+)$`)
	esdURI   = regexp.MustCompile(`^(?i:https?://id\.esd\.org\.uk/service/)([0-9]+)$`)
)

// ESDCodings turns the taxonomy terms that are LGA service types, written either
// "esdServiceType:298" or "http://id.esd.org.uk/service/298", into codings in ESDServiceSystem,
// once each, in the order given. Other terms (needs, circumstances, a directory's own taxonomy)
// have no agreed code system and are left out: the category's name says the rest.
func ESDCodings(terms []string) []Coding {
	var out []Coding
	seen := map[string]bool{}
	for _, t := range terms {
		t = strings.TrimSpace(t)
		m := esdCURIE.FindStringSubmatch(t)
		if m == nil {
			m = esdURI.FindStringSubmatch(t)
		}
		if m == nil {
			continue
		}
		code := strings.TrimLeft(m[1], "0")
		if code == "" || seen[code] {
			continue
		}
		seen[code] = true
		out = append(out, Coding{System: ESDServiceSystem, Code: code})
	}
	return out
}

func (b *builder) task() Task {
	rec := b.rec
	t := Task{
		ResourceType: "Task",
		ID:           b.id,
		Identifier:   []Identifier{{System: b.base + escalationIDSystem, Value: strconv.FormatInt(rec.ID, 10)}},
		Status:       string(rec.Status), // our statuses are FHIR's Task statuses
		Intent:       "order",
		Priority:     Priority(rec.Urgency),
		Code:         CodeableConcept{Coding: []Coding{{System: TaskCodeSystem, Code: "fulfill", Display: "Fulfill the focal request"}}},
		Focus:        b.ref("ServiceRequest", b.id, text(rec.CategoryName)),
		For:          b.patientRef(),
		AuthoredOn:   dateTime(rec.CreatedAt),
		LastModified: dateTime(rec.UpdatedAt),
		Requester:    b.coopRef(),
	}
	if bs := text(rec.BusinessStatus); bs != "" {
		t.BusinessStatus = &CodeableConcept{Text: bs}
	}
	if r := text(rec.StatusReason); r != "" {
		t.StatusReason = &CodeableConcept{Text: r}
	}
	if b.hasService {
		display := b.receiverName()
		if s := text(rec.ServiceName); s != "" && s != display {
			display = s + ", " + display
		}
		owner := b.ref("Organization", b.serviceID, display)
		t.Owner = &owner
	}
	if end := dateTime(rec.RespondBy); end != "" {
		t.Restriction = &TaskRestriction{Period: &Period{End: end}}
	}
	for _, c := range rec.History {
		t.Note = append(t.Note, historyNote(c))
	}
	if o := text(rec.Outcome); o != "" && rec.Status == domain.EscalationCompleted {
		t.Output = []TaskOutput{{Type: CodeableConcept{Text: outcomeOutputTypeText}, ValueString: o}}
	}
	return t
}

// historyNote words one change of the escalation's life for a Task note.
func historyNote(c domain.EscalationChange) Annotation {
	var parts []string
	if c.Status != "" {
		parts = append(parts, "Status "+string(c.Status)+".")
	}
	if bs := text(c.BusinessStatus); bs != "" {
		parts = append(parts, "Business status "+bs+".")
	}
	if n := text(c.Note); n != "" {
		parts = append(parts, n)
	}
	if len(parts) == 0 {
		parts = append(parts, "Changed.")
	}
	author := text(c.By)
	if side := sideName(c.Side); side != "" {
		if author == "" {
			author = side
		} else {
			author += " (" + side + ")"
		}
	}
	return Annotation{AuthorString: author, Time: dateTime(c.At), Text: markdown(strings.Join(parts, " "))}
}

func sideName(s domain.Side) string {
	switch s {
	case domain.SideCoop:
		return "co-op"
	case domain.SideService:
		return "service"
	}
	return ""
}

// patient is the person as little as the escalation needs: where (the postcode district), and
// their first name and phone only when the consent covers contact details. No birth date, and
// no identifier but a valid NHS number.
func (b *builder) patient() Patient {
	rec := b.rec
	p := Patient{ResourceType: "Patient", ID: b.id}
	if nhs, ok := NHSNumber(rec.NHSNumber); ok {
		p.Identifier = []Identifier{{System: NHSNumberSystem, Value: nhs}}
	}
	if rec.ConsentContact {
		if n := text(rec.FirstName); n != "" {
			p.Name = []HumanName{{Given: []string{n}}}
		}
		if ph := text(rec.Phone); ph != "" {
			p.Telecom = []ContactPoint{{System: "phone", Value: ph}}
		}
	}
	if a := (Address{PostalCode: text(rec.AreaCode), District: text(rec.AreaName)}); a != (Address{}) {
		p.Address = []Address{a}
	}
	return p
}

func (b *builder) consent() Consent {
	rec := b.rec
	recipient := text(rec.ConsentRecipient)
	if recipient == "" {
		recipient = "formal services"
	}
	contact := "not covered: the service is not given the person's first name or phone number."
	contactType := "deny"
	if rec.ConsentContact {
		contact = "covered: the service may have the person's first name and phone number, to contact them."
		contactType = "permit"
	}
	wording := text(rec.ConsentWording)
	c := Consent{
		ResourceType: "Consent",
		ID:           b.id,
		Status:       "active",
		Scope:        CodeableConcept{Coding: []Coding{{System: consentScopeSystem, Code: "patient-privacy", Display: "Privacy Consent"}}},
		Category: []CodeableConcept{{
			Coding: []Coding{{System: actCodeSystem, Code: "IDSCL", Display: "information disclosure"}},
			Text:   "Explicit consent (UK GDPR Art. 9(2)(a)) to pass a support need on to " + recipient,
		}},
		Patient:      b.patientRef(),
		DateTime:     dateTime(rec.ConsentGivenAt),
		Organization: []Reference{*b.coopRef()},
		Provision: &ConsentProvision{
			Type:   "permit",
			Period: &Period{Start: dateTime(rec.ConsentGivenAt)},
			Actor: []ConsentActor{{
				Role:      CodeableConcept{Coding: []Coding{{System: participationSystem, Code: "IRCP", Display: "information recipient"}}},
				Reference: Reference{Display: recipient}, // a kind of recipient, not one resource
			}},
			Code: []CodeableConcept{{Text: "The need: what is needed, when, the area and how urgent it is"}},
			Provision: []ConsentProvision{{
				Type: contactType,
				Code: []CodeableConcept{{Text: "Contact details are " + contact}},
			}},
		},
	}
	if wording != "" {
		c.PolicyRule = &CodeableConcept{Text: wording}
	}
	c.Text = &Narrative{Status: "generated", Div: consentNarrative(rec.ConsentGivenAt, wording, recipient, contact)}
	return c
}

// consentNarrative says the consent in words for a person reading the export.
func consentNarrative(given time.Time, wording, recipient, contact string) string {
	var s strings.Builder
	s.WriteString(`<div xmlns="http://www.w3.org/1999/xhtml">`)
	s.WriteString("<p>Consent given " + html.EscapeString(given.UTC().Format("2 January 2006 at 15:04 UTC")) +
		" to pass the need on to " + html.EscapeString(recipient) + ".</p>")
	if wording != "" {
		s.WriteString("<p>Wording agreed to: " + html.EscapeString(wording) + "</p>")
	}
	s.WriteString("<p>Contact details are " + html.EscapeString(contact) + "</p></div>")
	return s.String()
}

// text is free text made fit for a FHIR string: FHIR allows no white space but space, tab and
// line breaks, no control characters, and no empty strings (which callers then leave out).
func text(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			return r
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// markdown makes plain text safe where FHIR takes markdown (Annotation.text): a receiver that
// renders it must not meet raw HTML from people's notes, so "<" is escaped as CommonMark allows,
// which leaves the text readable unrendered.
func markdown(plain string) string {
	return strings.ReplaceAll(plain, "<", `\<`)
}

// dateTime is a time as a FHIR dateTime, in UTC to the second, or "" for the zero time.
func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// instant is a time as a FHIR instant; the same form as dateTime here.
func instant(t time.Time) string { return dateTime(t) }

func period(start, end time.Time) *Period {
	p := Period{Start: dateTime(start), End: dateTime(end)}
	if p == (Period{}) {
		return nil
	}
	return &p
}
