package fhir_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/fhir"
	"github.com/coop-exchange/coop/internal/testenv"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official FHIR R4 schema is 3 MB with some 150 resources: compiling it takes long enough
// that the test binary does it once and shares it (read-only, so safely across tests).
var fhirSchema struct {
	once   sync.Once
	bundle *jsonschema.Schema // definitions/Bundle
	any    *jsonschema.Schema // the whole schema: any one resource
	err    error
}

// schemas returns the compiled FHIR R4 schema, for a Bundle and for any resource.
func schemas(t *testing.T) (bundle, resource *jsonschema.Schema) {
	t.Helper()
	path := filepath.Join(testenv.Standards(t), "fhir-r4", "fhir.schema.json")
	fhirSchema.once.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			fhirSchema.err = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			fhirSchema.err = fmt.Errorf("read %s: %w", path, err)
			return
		}
		const loc = "http://hl7.org/fhir/json-schema/4.0/fhir.schema.json"
		c := jsonschema.NewCompiler()
		if err := c.AddResource(loc, doc); err != nil {
			fhirSchema.err = err
			return
		}
		if fhirSchema.bundle, err = c.Compile(loc + "#/definitions/Bundle"); err != nil {
			fhirSchema.err = err
			return
		}
		fhirSchema.any, fhirSchema.err = c.Compile(loc)
	})
	if fhirSchema.err != nil {
		t.Fatalf("compile the FHIR R4 schema: %v", fhirSchema.err)
	}
	return fhirSchema.bundle, fhirSchema.any
}

// validate fails the test with the schema's complaints when raw does not match sch.
func validate(t *testing.T, sch *jsonschema.Schema, raw []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("does not match the FHIR R4 schema: %v\n%s", err, raw)
	}
}

const (
	validNHS     = "9434765919" // a widely used test number with a right check digit
	respondByStr = "2025-03-06T13:00:00Z"
)

var (
	t0        = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	respondBy = time.Date(2025, 3, 6, 13, 0, 0, 0, time.UTC)
)

// record is a full escalation record, as the store would gather it, to change per case.
func record() domain.EscalationRecord {
	return domain.EscalationRecord{
		ID:             123,
		Status:         domain.EscalationRequested,
		Reason:         "No helper was found by the deadline",
		CreatedAt:      t0.Add(-time.Hour),
		SentAt:         t0,
		RespondBy:      respondBy,
		UpdatedAt:      t0.Add(30 * time.Minute),
		RequestID:      88,
		CategorySlug:   "sitting",
		CategoryName:   "Sitting with someone",
		TaxonomyTerms:  []string{"esdServiceType:298", "http://id.esd.org.uk/service/298", "esdNeed:12", "http://id.esd.org.uk/service/272"},
		Description:    "Someone to sit with my husband so that I can go to a hospital appointment",
		Start:          time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC),
		End:            time.Date(2025, 3, 10, 13, 0, 0, 0, time.UTC),
		Urgency:        domain.Urgent,
		AreaName:       "Scunthorpe",
		AreaCode:       "DN15",
		ForSomeoneElse: true,
		Tried:          "the matcher found no helper within 5 miles; 3 offers were declined",
		FirstName:      "Alex",
		Phone:          "01632 960000",
		ConsentWording: domain.EscalationConsentWording + " " + domain.EscalationContactWording,
		ConsentGivenAt: t0.Add(-14 * 24 * time.Hour),
		ConsentContact: true,
		// The recipient kind, as the requester's consent names it.
		ConsentRecipient: "formal services (council, NHS, charities)",
		ServiceID:        7,
		ServiceSourceID:  "ac148810-d857-441c-9679-408f346de14b",
		ServiceName:      "Carers' respite sitting service",
		Organisation:     "North Lincolnshire Council",
		CoopName:         "Riverside Community Support Co-operative",
		BaseURL:          "https://coop.example.org/",
	}
}

// withStatus puts the record in status s, with what a record in it carries.
func withStatus(rec domain.EscalationRecord, s domain.EscalationStatus) domain.EscalationRecord {
	rec.Status = s
	switch s {
	case domain.EscalationDraft:
		rec.SentAt, rec.RespondBy = time.Time{}, time.Time{}
	case domain.EscalationRejected:
		rec.StatusReason = "We do not cover DN15"
	case domain.EscalationCancelled:
		rec.StatusReason = "A helper offered after all"
	case domain.EscalationCompleted:
		rec.Outcome = "A sitter came for the morning"
	}
	if s != domain.EscalationDraft && s != domain.EscalationRequested {
		rec.BusinessStatus = domain.BusinessAcknowledged
	}
	return rec
}

// longHistory is a busy escalation's life, with notes that test FHIR's rules on strings.
func longHistory() []domain.EscalationChange {
	var h []domain.EscalationChange
	steps := []struct {
		s    domain.EscalationStatus
		side domain.Side
		by   string
		note string
	}{
		{domain.EscalationDraft, domain.SideCoop, "the matcher", ""},
		{domain.EscalationRequested, domain.SideCoop, "Sam Coordinator", "Sent after review"},
		{domain.EscalationRequested, domain.SideService, "", ""},
		{domain.EscalationAccepted, domain.SideService, "Pat at the council", "We can help <b>next week</b> & will call"},
		{domain.EscalationOnHold, domain.SideService, "Pat at the council", "Waiting for a sitter\u00a0to confirm\f"},
		{domain.EscalationInProgress, domain.SideService, "Pat at the council", "Line one\nline two\ttabbed  "},
		{"", "", "", ""},
	}
	for i, st := range steps {
		c := domain.EscalationChange{At: t0.Add(time.Duration(i) * time.Hour), Status: st.s, By: st.by, Side: st.side, Note: st.note}
		if i == 2 {
			c.BusinessStatus = domain.BusinessAcknowledged
		}
		h = append(h, c)
	}
	for i := range 40 {
		h = append(h, domain.EscalationChange{At: t0.Add(time.Duration(10+i) * time.Hour), Status: domain.EscalationInProgress,
			By: "Pat", Side: domain.SideService, Note: "Visit " + strconv.Itoa(i+1) + " done"})
	}
	return h
}

// parsed is a bundle read back, as a service would.
type parsed struct {
	raw      []byte
	doc      map[string]any
	byURL    map[string]map[string]any
	byType   map[string][]map[string]any
	fullURLs []string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	p := parsed{raw: raw, byURL: map[string]map[string]any{}, byType: map[string][]map[string]any{}}
	if err := json.Unmarshal(raw, &p.doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	entries, _ := p.doc["entry"].([]any)
	for _, e := range entries {
		em := e.(map[string]any)
		url, _ := em["fullUrl"].(string)
		res, _ := em["resource"].(map[string]any)
		if url == "" || res == nil {
			t.Fatalf("an entry without fullUrl or resource: %v", em)
		}
		if _, dup := p.byURL[url]; dup {
			t.Fatalf("two entries share the fullUrl %s", url)
		}
		p.byURL[url] = res
		p.fullURLs = append(p.fullURLs, url)
		rt, _ := res["resourceType"].(string)
		p.byType[rt] = append(p.byType[rt], res)
	}
	return p
}

// one returns the only resource of a type, failing unless there is exactly one.
func (p parsed) one(t *testing.T, resourceType string) map[string]any {
	t.Helper()
	if n := len(p.byType[resourceType]); n != 1 {
		t.Fatalf("%d %s resources, want 1", n, resourceType)
	}
	return p.byType[resourceType][0]
}

// get follows keys (and list indices) into decoded JSON; nil when a step is missing.
func get(v any, path ...any) any {
	for _, k := range path {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// references lists every Reference.reference in decoded JSON.
func references(v any) []string {
	var out []string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(c, k)
			}
		case []any:
			for _, c := range v {
				walk(c, key)
			}
		case string:
			if key == "reference" {
				out = append(out, v)
			}
		}
	}
	walk(v, "")
	return out
}

// checkBundle asserts what a service, or the person, would notice about any bundle of rec.
func checkBundle(t *testing.T, rec domain.EscalationRecord, raw []byte) parsed {
	t.Helper()
	bundleSchema, _ := schemas(t)
	validate(t, bundleSchema, raw)
	p := parse(t, raw)

	if get(p.doc, "type") != "collection" || get(p.doc, "id") != "escalation-123" || get(p.doc, "identifier", "value") != "123" {
		t.Errorf("bundle type %v, id %v, identifier %v", get(p.doc, "type"), get(p.doc, "id"), get(p.doc, "identifier"))
	}
	if got, want := get(p.doc, "timestamp"), rec.UpdatedAt.UTC().Format(time.RFC3339); got != want {
		t.Errorf("timestamp %v, want %s", got, want)
	}
	for _, u := range p.fullURLs {
		if !strings.HasPrefix(u, "https://coop.example.org/fhir/") {
			t.Errorf("fullUrl %s is not below the co-op's base URL", u)
		}
		res := p.byURL[u]
		if want := "/" + res["resourceType"].(string) + "/" + res["id"].(string); !strings.HasSuffix(u, want) {
			t.Errorf("fullUrl %s disagrees with its resource's type and id (%s)", u, want)
		}
	}
	for _, r := range references(p.doc) {
		if _, ok := p.byURL[r]; !ok {
			t.Errorf("reference %s resolves to no entry of the bundle", r)
		}
	}
	lower := strings.ToLower(string(raw))
	for _, us := range []string{"us-core", "us/core", "uscore"} {
		if strings.Contains(lower, us) {
			t.Errorf("the bundle mentions %q: it must not claim US Core", us)
		}
	}
	if strings.Contains(string(raw), `"meta"`) || strings.Contains(string(raw), `"profile"`) {
		t.Error("the bundle claims a profile in meta")
	}

	task := p.one(t, "Task")
	if get(task, "status") != string(rec.Status) {
		t.Errorf("Task.status %v, want the escalation's %s", get(task, "status"), rec.Status)
	}
	if get(task, "intent") != "order" || get(task, "code", "coding", 0, "code") != "fulfill" || get(task, "code", "coding", 0, "system") != fhir.TaskCodeSystem {
		t.Errorf("Task intent %v, code %v: want an order to fulfill", get(task, "intent"), get(task, "code"))
	}
	wantEnd := ""
	if !rec.RespondBy.IsZero() {
		wantEnd = respondByStr
	}
	if got, _ := get(task, "restriction", "period", "end").(string); got != wantEnd {
		t.Errorf("Task.restriction.period.end %q, want the respond-by %q", got, wantEnd)
	}
	if got, _ := get(task, "businessStatus", "text").(string); got != rec.BusinessStatus {
		t.Errorf("Task.businessStatus %q, want %q", got, rec.BusinessStatus)
	}
	if got, _ := get(task, "statusReason", "text").(string); got != rec.StatusReason {
		t.Errorf("Task.statusReason %q, want %q", got, rec.StatusReason)
	}
	notes, _ := get(task, "note").([]any)
	if len(notes) != len(rec.History) {
		t.Errorf("%d Task notes, want one per change (%d)", len(notes), len(rec.History))
	}
	for _, n := range notes {
		// Notes are markdown: HTML people typed must reach a renderer escaped.
		if text, _ := get(n, "text").(string); strings.Contains(strings.ReplaceAll(text, `\<`, ""), "<") {
			t.Errorf("Task note %q holds raw HTML", text)
		}
	}
	outcome, _ := get(task, "output", 0, "valueString").(string)
	if rec.Status == domain.EscalationCompleted && outcome != rec.Outcome || rec.Status != domain.EscalationCompleted && outcome != "" {
		t.Errorf("Task output %q in status %s", outcome, rec.Status)
	}

	sr := p.one(t, "ServiceRequest")
	if get(sr, "status") != fhir.ServiceRequestStatus(rec.Status) {
		t.Errorf("ServiceRequest.status %v, want %s", get(sr, "status"), fhir.ServiceRequestStatus(rec.Status))
	}
	if get(task, "focus", "reference") != p.fullURLOf(sr) || get(sr, "supportingInfo", 0, "reference") != p.fullURLOf(p.one(t, "Consent")) {
		t.Error("the Task's focus is not the ServiceRequest, or the ServiceRequest's supportingInfo is not the Consent")
	}
	if get(sr, "priority") != fhir.Priority(rec.Urgency) || get(task, "priority") != fhir.Priority(rec.Urgency) {
		t.Errorf("priorities %v and %v for %s", get(sr, "priority"), get(task, "priority"), rec.Urgency)
	}
	if get(sr, "performer", 0, "identifier", "system") != fhir.HSDSServiceSystem || get(sr, "performer", 0, "identifier", "value") != rec.ServiceSourceID {
		t.Errorf("performer %v: want the HSDS id %s", get(sr, "performer"), rec.ServiceSourceID)
	}
	hs := p.one(t, "HealthcareService")
	if get(sr, "performer", 0, "reference") != p.fullURLOf(hs) || get(hs, "identifier", 0, "value") != rec.ServiceSourceID {
		t.Errorf("the performer is not the HealthcareService with the HSDS id: %v", hs)
	}
	owner := p.byURL[get(task, "owner", "reference").(string)]
	if get(owner, "resourceType") != "Organization" || get(owner, "name") != rec.Organisation {
		t.Errorf("the Task's owner is %v, want the Organization %s", owner, rec.Organisation)
	}
	coop := p.byURL[get(task, "requester", "reference").(string)]
	if get(coop, "name") != rec.CoopName || get(sr, "requester", "reference") != get(task, "requester", "reference") {
		t.Errorf("the requester is %v, want the co-op", coop)
	}

	pat := p.one(t, "Patient")
	for _, key := range []string{"birthDate", "gender", "meta"} {
		if pat[key] != nil {
			t.Errorf("the Patient has %s", key)
		}
	}
	if get(task, "for", "reference") != p.fullURLOf(pat) || get(sr, "subject", "reference") != p.fullURLOf(pat) {
		t.Error("the Task and ServiceRequest are not for the Patient")
	}
	if rec.ConsentContact {
		if get(pat, "name", 0, "given", 0) != rec.FirstName || get(pat, "telecom", 0, "value") != rec.Phone {
			t.Errorf("with contact consent, the Patient lacks the first name or phone: %v", pat)
		}
	} else if pat["name"] != nil || pat["telecom"] != nil || strings.Contains(string(raw), rec.Phone) || strings.Contains(string(raw), `"`+rec.FirstName+`"`) {
		t.Errorf("without contact consent, the bundle names or gives the phone of the person: %v", pat)
	}
	if get(pat, "address", 0, "postalCode") != rec.AreaCode || get(pat, "address", 0, "district") != rec.AreaName || len(get(pat, "address", 0).(map[string]any)) != 2 {
		t.Errorf("Patient address %v, want only the postcode district %s and area %s", get(pat, "address"), rec.AreaCode, rec.AreaName)
	}
	nhs, valid := fhir.NHSNumber(rec.NHSNumber)
	ids, _ := pat["identifier"].([]any)
	switch {
	case valid && (len(ids) != 1 || get(ids, 0, "system") != fhir.NHSNumberSystem || get(ids, 0, "value") != nhs):
		t.Errorf("Patient identifiers %v, want the NHS number %s alone", ids, nhs)
	case !valid && len(ids) != 0:
		t.Errorf("Patient identifiers %v for the invalid or absent NHS number %q", ids, rec.NHSNumber)
	}
	if !valid && rec.NHSNumber != "" && strings.Contains(string(raw), rec.NHSNumber) {
		t.Errorf("the invalid NHS number %s is in the bundle", rec.NHSNumber)
	}

	consent := p.one(t, "Consent")
	if get(consent, "status") != "active" || get(consent, "patient", "reference") != p.fullURLOf(pat) ||
		get(consent, "dateTime") != rec.ConsentGivenAt.UTC().Format(time.RFC3339) {
		t.Errorf("Consent %v", consent)
	}
	if get(consent, "policyRule", "text") != rec.ConsentWording || !strings.Contains(string(mustJSON(t, consent)), rec.ConsentRecipient) {
		t.Errorf("the Consent does not hold the wording and the recipient kind: %v", consent)
	}
	contactType := "deny"
	if rec.ConsentContact {
		contactType = "permit"
	}
	if get(consent, "provision", "provision", 0, "type") != contactType {
		t.Errorf("the Consent's provision for contact details is %v, want %s", get(consent, "provision", "provision"), contactType)
	}
	return p
}

func (p parsed) fullURLOf(res map[string]any) string {
	for _, u := range p.fullURLs {
		if r := p.byURL[u]; r["resourceType"] == res["resourceType"] && r["id"] == res["id"] {
			return u
		}
	}
	return ""
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every bundle the export can produce matches the FHIR R4 schema and says what it must: every
// status, with and without contact consent, with no, a valid and an invalid NHS number, with
// no history and a long one, at every urgency.
func TestEveryBundleValidatesAndSaysWhatItMust(t *testing.T) {
	schemas(t) // compile before the subtests, once
	nhsNumbers := []string{"", validNHS, "943 476 5919", "9434765918"}
	histories := map[string][]domain.EscalationChange{"no history": nil, "long history": longHistory()}
	for _, status := range domain.EscalationStatuses {
		for _, contact := range []bool{true, false} {
			for _, nhs := range nhsNumbers {
				for hname, history := range histories {
					for _, urgency := range domain.Urgencies {
						name := fmt.Sprintf("%s/contact=%t/nhs=%q/%s/%s", status, contact, nhs, hname, urgency)
						t.Run(name, func(t *testing.T) {
							rec := withStatus(record(), status)
							rec.ConsentContact, rec.NHSNumber, rec.History, rec.Urgency = contact, nhs, history, urgency
							raw, err := fhir.Bundle(rec)
							if err != nil {
								t.Fatal(err)
							}
							checkBundle(t, rec, raw)
						})
					}
				}
			}
		}
	}
}

// The export withholds the first name and phone without contact consent even when the record
// holds them by mistake: the consent, not the caller, decides.
func TestNoContactDetailsWithoutContactConsent(t *testing.T) {
	rec := record()
	rec.ConsentContact = false
	raw, err := fhir.Bundle(rec)
	if err != nil {
		t.Fatal(err)
	}
	p := checkBundle(t, rec, raw)
	pat := p.one(t, "Patient")
	if pat["name"] != nil || pat["telecom"] != nil {
		t.Errorf("Patient %v has a name or phone without contact consent", pat)
	}
	if strings.Contains(string(raw), "01632") || strings.Contains(string(raw), `"Alex"`) {
		t.Error("the phone number or first name is somewhere in the bundle")
	}
}

// A record with less in it (a draft with no service chosen yet, no times, no category terms,
// text FHIR would refuse as it stands) still makes a valid bundle whose references resolve.
func TestSparseRecordStillValid(t *testing.T) {
	bundleSchema, _ := schemas(t)
	rec := domain.EscalationRecord{
		ID:             5,
		Status:         domain.EscalationDraft,
		Description:    "  \u00a0Shopping\u2028for\fme\x00  ",
		Urgency:        "whenever",
		ConsentGivenAt: t0,
		FirstName:      "   ",
		Phone:          "\t",
		ConsentContact: true,
		BaseURL:        "http://localhost:8080",
		History:        []domain.EscalationChange{{}},
	}
	raw, err := fhir.Bundle(rec)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, bundleSchema, raw)
	p := parse(t, raw)
	for _, r := range references(p.doc) {
		if _, ok := p.byURL[r]; !ok {
			t.Errorf("reference %s resolves to no entry", r)
		}
	}
	if n := len(p.byType["HealthcareService"]); n != 0 {
		t.Errorf("%d HealthcareServices for an escalation with no service", n)
	}
	if got := get(p.one(t, "ServiceRequest"), "code", "text"); got != "Shopping for me" {
		t.Errorf("code.text %q", got)
	}
	if pat := p.one(t, "Patient"); pat["name"] != nil || pat["telecom"] != nil || pat["address"] != nil {
		t.Errorf("blank details made it into the Patient: %v", pat)
	}
}

// Without the co-op's HSDS id of a service, the performer is named by the co-op's own id.
func TestPerformerFallsBackToTheCoopsServiceID(t *testing.T) {
	rec := record()
	rec.ServiceSourceID = ""
	raw, err := fhir.Bundle(rec)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, raw)
	sr := p.one(t, "ServiceRequest")
	if get(sr, "performer", 0, "identifier", "system") != "https://coop.example.org/service" || get(sr, "performer", 0, "identifier", "value") != "7" {
		t.Errorf("performer %v, want the co-op's service id 7", get(sr, "performer"))
	}
}

func TestBundleIsStable(t *testing.T) {
	rec := record()
	rec.History = longHistory()
	a, err := fhir.Bundle(rec)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fhir.Bundle(rec)
	if !bytes.Equal(a, b) {
		t.Error("the same escalation made two different bundles")
	}
}

func TestBundleRefusesWhatMustNotLeave(t *testing.T) {
	cases := map[string]func(*domain.EscalationRecord){
		"no consent":       func(r *domain.EscalationRecord) { r.ConsentGivenAt = time.Time{} },
		"unsaved":          func(r *domain.EscalationRecord) { r.ID = 0 },
		"unknown status":   func(r *domain.EscalationRecord) { r.Status = "sent" },
		"no base URL":      func(r *domain.EscalationRecord) { r.BaseURL = "" },
		"relative base":    func(r *domain.EscalationRecord) { r.BaseURL = "/coop" },
		"not http(s) base": func(r *domain.EscalationRecord) { r.BaseURL = "ftp://coop.example.org" },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			rec := record()
			change(&rec)
			if raw, err := fhir.Bundle(rec); err == nil {
				t.Errorf("exported %s", raw)
			}
		})
	}
	rec := record()
	rec.ConsentGivenAt = time.Time{}
	if _, err := fhir.Bundle(rec); !errors.Is(err, fhir.ErrNoConsent) {
		t.Errorf("without consent: %v, want ErrNoConsent", err)
	}
}

func TestServiceRequestStatus(t *testing.T) {
	want := map[domain.EscalationStatus]string{
		domain.EscalationDraft:          "draft",
		domain.EscalationRequested:      "active",
		domain.EscalationAccepted:       "active",
		domain.EscalationInProgress:     "active",
		domain.EscalationOnHold:         "active",
		domain.EscalationCompleted:      "completed",
		domain.EscalationRejected:       "revoked",
		domain.EscalationFailed:         "revoked",
		domain.EscalationCancelled:      "revoked",
		domain.EscalationEnteredInError: "entered-in-error",
	}
	for _, s := range domain.EscalationStatuses {
		w, ok := want[s]
		if !ok {
			t.Errorf("no expected ServiceRequest status for %s: decide one", s)
			continue
		}
		if got := fhir.ServiceRequestStatus(s); got != w {
			t.Errorf("%s: ServiceRequest %s, want %s", s, got, w)
		}
		if s.Open() != (w == "active" || w == "draft") {
			t.Errorf("%s: open %t but ServiceRequest %s", s, s.Open(), w)
		}
	}
}

func TestPriority(t *testing.T) {
	for u, want := range map[domain.Urgency]string{domain.Urgent: "urgent", domain.Soon: "asap", domain.Routine: "routine", "": ""} {
		if got := fhir.Priority(u); got != want {
			t.Errorf("%q: %q, want %q", u, got, want)
		}
	}
}

func TestESDCodings(t *testing.T) {
	got := fhir.ESDCodings([]string{" esdServiceType:298", "http://id.esd.org.uk/service/298", "https://id.esd.org.uk/service/0272",
		"esdNeed:5", "esdServiceType:", "esdServiceType:12a", "http://id.esd.org.uk/need/3", "food"})
	want := []fhir.Coding{{System: fhir.ESDServiceSystem, Code: "298"}, {System: fhir.ESDServiceSystem, Code: "272"}}
	if !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
}

// checkDigit is the modulus 11 check digit of nine digits, or -1 when there is none.
func checkDigit(nine string) int {
	sum := 0
	for i, d := range nine {
		sum += int(d-'0') * (10 - i)
	}
	switch c := 11 - sum%11; c {
	case 11:
		return 0
	case 10:
		return -1
	default:
		return c
	}
}

func TestNHSNumber(t *testing.T) {
	for in, want := range map[string]string{
		"9434765919":    "9434765919",
		"943 476 5919":  "9434765919",
		" 943-476-5919": "9434765919",
		"9000000009":    "9000000009",
		"4010232137":    "4010232137",
	} {
		if got, ok := fhir.NHSNumber(in); !ok || got != want {
			t.Errorf("%q: %q %t, want valid %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "9434765918", "943476591", "94347659190", "943476591X", "1000000010", "0000000000", "1111111111", "943 476 591 9x"} {
		if got, ok := fhir.NHSNumber(in); ok {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
	// Every prefix, with its computed check digit, passes; with any other last digit, fails.
	for n := 100000000; n < 1000000000; n += 7654321 {
		nine := strconv.Itoa(n)
		c := checkDigit(nine)
		for d := range 10 {
			_, ok := fhir.NHSNumber(nine + strconv.Itoa(d))
			if want := d == c && strings.Count(nine+strconv.Itoa(d), nine[:1]) != 10; ok != want {
				t.Errorf("%s%d: valid %t, want %t (check digit %d)", nine, d, ok, want, c)
			}
		}
	}
}

// The bundle holds the same kinds of resource as the invented example in the reference data.
func TestShapeLikeTheReferenceExample(t *testing.T) {
	bundleSchema, _ := schemas(t)
	example, err := os.ReadFile(filepath.Join(testenv.Standards(t), "fhir-r4", "examples", "Bundle-escalation-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, bundleSchema, example)
	raw, err := fhir.Bundle(record())
	if err != nil {
		t.Fatal(err)
	}
	types := func(p parsed) []string {
		var out []string
		for k := range p.byType {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if got, want := types(parse(t, raw)), types(parse(t, example)); !slices.Equal(got, want) {
		t.Errorf("resource types %v, the example has %v", got, want)
	}
}

// The validator is not vacuous: the SDOHCC examples match, and a bundle with a wrong status or
// a stray element does not.
func TestSchemaCatchesMistakes(t *testing.T) {
	bundleSchema, resource := schemas(t)
	dir := filepath.Join(testenv.Standards(t), "fhir-r4", "examples")
	files, err := filepath.Glob(filepath.Join(dir, "*-SDOHCC-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no SDOHCC examples in %s: %v", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, resource, b)
	}
	raw, err := fhir.Bundle(record())
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"a Task status FHIR lacks": bytes.Replace(raw, []byte(`"status":"requested"`), []byte(`"status":"sent"`), 1),
		"an element FHIR lacks":    bytes.Replace(raw, []byte(`"resourceType":"Patient",`), []byte(`"resourceType":"Patient","shoeSize":9,`), 1),
		"an empty string":          bytes.Replace(raw, []byte(`"name":"`+record().CoopName+`"`), []byte(`"name":""`), 1),
	} {
		if bytes.Equal(bad, raw) {
			t.Fatalf("%s: the bundle did not change", name)
		}
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
		if bundleSchema.Validate(v) == nil {
			t.Errorf("%s passed the schema", name)
		}
	}
}
