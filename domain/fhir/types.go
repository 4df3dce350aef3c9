package fhir

// The few FHIR R4 data types and resources an escalation needs, as plain structs: only the
// elements the export fills, every one optional in JSON (omitempty), so that an element the
// escalation has nothing for is left out rather than sent empty, which FHIR forbids.

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a concept as codes and, or, text.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Identifier is a business identifier within a system.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Reference points at another resource, here always one in the same bundle by its fullUrl.
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Period is a span of time; either end may be open.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Annotation is a note with who wrote it and when.
type Annotation struct {
	AuthorString string `json:"authorString,omitempty"`
	Time         string `json:"time,omitempty"`
	Text         string `json:"text"`
}

// HumanName is a person's name; only the given name is ever sent.
type HumanName struct {
	Given []string `json:"given,omitempty"`
}

// ContactPoint is a way to reach someone.
type ContactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Address is where someone lives; only the postcode district and area name are ever sent.
type Address struct {
	District   string `json:"district,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
}

// Narrative is a resource's human-readable summary, as an XHTML div.
type Narrative struct {
	Status string `json:"status"`
	Div    string `json:"div"`
}

// BundleDoc is a FHIR Bundle.
type BundleDoc struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id"`
	Identifier   *Identifier   `json:"identifier,omitempty"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Entry        []BundleEntry `json:"entry"`
}

// BundleEntry is one resource in a bundle, with the absolute URL references use to reach it.
type BundleEntry struct {
	FullURL  string `json:"fullUrl"`
	Resource any    `json:"resource"`
}

// ServiceRequest is the need the co-op asks a service to meet.
type ServiceRequest struct {
	ResourceType     string            `json:"resourceType"`
	ID               string            `json:"id"`
	Identifier       []Identifier      `json:"identifier,omitempty"`
	Status           string            `json:"status"`
	Intent           string            `json:"intent"`
	Category         []CodeableConcept `json:"category,omitempty"`
	Priority         string            `json:"priority,omitempty"`
	Code             *CodeableConcept  `json:"code,omitempty"`
	Subject          Reference         `json:"subject"`
	OccurrencePeriod *Period           `json:"occurrencePeriod,omitempty"`
	AuthoredOn       string            `json:"authoredOn,omitempty"`
	Requester        *Reference        `json:"requester,omitempty"`
	Performer        []Reference       `json:"performer,omitempty"`
	ReasonCode       []CodeableConcept `json:"reasonCode,omitempty"`
	SupportingInfo   []Reference       `json:"supportingInfo,omitempty"`
	Note             []Annotation      `json:"note,omitempty"`
}

// Task is the escalation itself: the service's job of fulfilling the ServiceRequest.
type Task struct {
	ResourceType   string           `json:"resourceType"`
	ID             string           `json:"id"`
	Identifier     []Identifier     `json:"identifier,omitempty"`
	Status         string           `json:"status"`
	StatusReason   *CodeableConcept `json:"statusReason,omitempty"`
	BusinessStatus *CodeableConcept `json:"businessStatus,omitempty"`
	Intent         string           `json:"intent"`
	Priority       string           `json:"priority,omitempty"`
	Code           CodeableConcept  `json:"code"`
	Focus          Reference        `json:"focus"`
	For            Reference        `json:"for"`
	AuthoredOn     string           `json:"authoredOn,omitempty"`
	LastModified   string           `json:"lastModified,omitempty"`
	Requester      *Reference       `json:"requester,omitempty"`
	Owner          *Reference       `json:"owner,omitempty"`
	Note           []Annotation     `json:"note,omitempty"`
	Restriction    *TaskRestriction `json:"restriction,omitempty"`
	Output         []TaskOutput     `json:"output,omitempty"`
}

// TaskRestriction limits how a task is fulfilled; here only by when.
type TaskRestriction struct {
	Period *Period `json:"period,omitempty"`
}

// TaskOutput is something the task produced; here the service's outcome, in words.
type TaskOutput struct {
	Type        CodeableConcept `json:"type"`
	ValueString string          `json:"valueString"`
}

// Patient is the person the need is for, as little of them as the consent allows.
type Patient struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id"`
	Identifier   []Identifier   `json:"identifier,omitempty"`
	Name         []HumanName    `json:"name,omitempty"`
	Telecom      []ContactPoint `json:"telecom,omitempty"`
	Address      []Address      `json:"address,omitempty"`
}

// Consent is the person's explicit agreement to pass the need on.
type Consent struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Text         *Narrative        `json:"text,omitempty"`
	Status       string            `json:"status"`
	Scope        CodeableConcept   `json:"scope"`
	Category     []CodeableConcept `json:"category"`
	Patient      Reference         `json:"patient"`
	DateTime     string            `json:"dateTime,omitempty"`
	Organization []Reference       `json:"organization,omitempty"`
	PolicyRule   *CodeableConcept  `json:"policyRule,omitempty"`
	Provision    *ConsentProvision `json:"provision,omitempty"`
}

// ConsentProvision is what the consent permits or denies, to whom, and its exceptions.
type ConsentProvision struct {
	Type      string             `json:"type"`
	Period    *Period            `json:"period,omitempty"`
	Actor     []ConsentActor     `json:"actor,omitempty"`
	Code      []CodeableConcept  `json:"code,omitempty"`
	Provision []ConsentProvision `json:"provision,omitempty"`
}

// ConsentActor is who the consent lets have the data.
type ConsentActor struct {
	Role      CodeableConcept `json:"role"`
	Reference Reference       `json:"reference"`
}

// Organization is the co-op, or the organisation running the receiving service.
type Organization struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Name         string       `json:"name"`
}

// HealthcareService is the receiving service, as the directory (HSDS) knows it.
type HealthcareService struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	ProvidedBy   *Reference   `json:"providedBy,omitempty"`
	Name         string       `json:"name,omitempty"`
}
