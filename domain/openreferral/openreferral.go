// Package openreferral reads directories of services published in the Open Referral shapes:
// HSDS 3.x and its UK profile (ORUK 3.0), and the older ORUK v1 that many councils still
// publish. It turns a file or a feed page into plain records holding what the co-op's routing
// needs, each either usable or with the reasons it cannot be used. It knows nothing of the
// co-op's own records or storage.
package openreferral

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Format is the shape a record was published in.
type Format string

// The formats read.
const (
	HSDS3 Format = "hsds"  // HSDS 3.x, including the UK profile ORUK 3.0
	ORUK1 Format = "oruk1" // the older Open Referral UK v1 shape
)

// hsdsServiceSchema is HSDS 3.1's compiled schema of one service, with every definition
// inlined (openreferral/specification, schema/compiled/service_with_definitions.json, CC BY-SA
// 4.0). It is part of the program rather than test data: every import is checked against it.
//
//go:embed schema/hsds-3.1-service_with_definitions.json
var hsdsServiceSchema []byte

// Record is one service from a directory, reduced to what routing needs.
type Record struct {
	Index        int // 1-based position in the file or feed
	Format       Format
	ID           string
	Name         string
	Organisation string
	Status       string
	Description  string // plain text
	// Email is the directory's address for the service (or its first contact, or its
	// organisation): an address to ask about it, not one known to accept referrals.
	Email         string
	TaxonomyTerms []string
	// Areas are the names and extents of the service's areas as the directory gives them.
	Areas          []string
	MinAge, MaxAge *int
	Eligibility    string // plain text
	LastModified   time.Time
	// Problems say why the record cannot be imported; empty when it can.
	Problems []string
}

// Usable reports whether the record can be imported.
func (r Record) Usable() bool { return len(r.Problems) == 0 }

// Label names the record for a report: its name, or its position.
func (r Record) Label() string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("record %d", r.Index)
}

// PageInfo is what a paged HSDS answer says about itself.
type PageInfo struct {
	TotalItems int  `json:"total_items"`
	TotalPages int  `json:"total_pages"`
	PageNumber int  `json:"page_number"`
	LastPage   bool `json:"last_page"`
	Empty      bool `json:"empty"`
}

// Batch is what one file or feed page holds.
type Batch struct {
	Records []Record
	Page    *PageInfo // nil unless the document was a page object
}

// FormatError means the document as a whole is not an Open Referral list of services: it is not
// JSON, or its records are not services. Problems name the first few things wrong.
type FormatError struct {
	Problems []string
}

func (e *FormatError) Error() string {
	return "not an Open Referral (HSDS or ORUK) list of services: " + strings.Join(e.Problems, "; ")
}

// maxProblems is how many problems are named per record or document.
const maxProblems = 3

// Reader parses directories. It is safe for concurrent use.
type Reader struct {
	schema   *jsonschema.Schema
	sanitise *bluemonday.Policy
	printer  *message.Printer
}

// NewReader compiles the HSDS schema the reader checks records against.
func NewReader() (*Reader, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(hsdsServiceSchema))
	if err != nil {
		return nil, fmt.Errorf("openreferral: read the HSDS schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	const loc = "https://openreferral.org/hsds/3.1/service_with_definitions.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("openreferral: load the HSDS schema: %w", err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("openreferral: compile the HSDS schema: %w", err)
	}
	return &Reader{schema: sch, sanitise: bluemonday.StrictPolicy(), printer: message.NewPrinter(language.English)}, nil
}

// MustNewReader is NewReader for wiring the program: the schema is part of the binary, so a
// failure is a broken build, which the package's tests catch.
func MustNewReader() *Reader {
	r, err := NewReader()
	if err != nil {
		panic(err)
	}
	return r
}

// Parse reads a document: one service object, a JSON list of services, or a page object
// {"contents": [...], "total_items": ...}, in HSDS 3.x or ORUK v1 shape. A document that is not
// JSON, or whose entries are not service objects, is a *FormatError; a service that cannot be
// used (not active, invalid against the schema, missing what routing needs) is a Record with
// Problems.
func (r *Reader) Parse(data []byte) (Batch, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a byte order mark, as some exports have
	if len(bytes.TrimSpace(data)) == 0 {
		return Batch{}, &FormatError{Problems: []string{"the file is empty"}}
	}
	if !utf8.Valid(data) {
		return Batch{}, &FormatError{Problems: []string{"the file is not text (UTF-8 JSON)"}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return Batch{}, &FormatError{Problems: []string{"the file is not JSON: " + jsonProblem(data, err)}}
	}
	if dec.More() {
		return Batch{}, &FormatError{Problems: []string{"the file holds more than one JSON document"}}
	}
	var batch Batch
	var items []any
	switch d := doc.(type) {
	case []any:
		items = d
	case map[string]any:
		if contents, ok := d["contents"]; ok {
			list, ok := contents.([]any)
			if !ok {
				return Batch{}, &FormatError{Problems: []string{`"contents" is not a list of services`}}
			}
			items = list
			var page PageInfo
			page.PageNumber, page.TotalPages, page.TotalItems = intField(d, "page_number"), intField(d, "total_pages"), intField(d, "total_items")
			page.LastPage, _ = d["last_page"].(bool)
			page.Empty, _ = d["empty"].(bool)
			batch.Page = &page
		} else {
			items = []any{d}
		}
	default:
		return Batch{}, &FormatError{Problems: []string{"the file holds a single JSON value, not a service or a list of services"}}
	}
	var problems []string
	for i, item := range items {
		obj, ok := item.(map[string]any)
		id, name := "", ""
		if ok {
			id, name = text(obj["id"]), text(obj["name"])
		}
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("entry %d is not a JSON object", i+1))
		case id == "" && name == "":
			problems = append(problems, fmt.Sprintf("entry %d has no \"id\" and no \"name\", so it is not a service", i+1))
		default:
			batch.Records = append(batch.Records, r.record(i+1, obj))
		}
		if len(problems) >= maxProblems {
			break
		}
	}
	if len(problems) > 0 {
		return Batch{}, &FormatError{Problems: problems}
	}
	return batch, nil
}

// jsonProblem says where the JSON went wrong, by line and column.
func jsonProblem(data []byte, err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends before the JSON does (it may be cut short)"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		return fmt.Sprintf("%s at line %d, column %d", se.Error(), line, col)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := position(data, te.Offset)
		return fmt.Sprintf("%s at line %d, column %d", te.Error(), line, col)
	}
	return err.Error()
}

func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// orukV1Fields are fields only the v1 shape has; a record with any of them is read as ORUK v1.
var orukV1Fields = []string{"deliverable_type", "attending_type", "attending_access", "pc_metadata", "pc_targetAudience"}

func isORUK1(obj map[string]any) bool {
	for k := range obj {
		if strings.HasPrefix(k, "pc_") {
			return true
		}
	}
	for _, k := range orukV1Fields {
		if _, ok := obj[k]; ok {
			return true
		}
	}
	return false
}

// record maps one service object, noting why it cannot be used.
func (r *Reader) record(index int, obj map[string]any) Record {
	rec := Record{Index: index, Format: HSDS3, ID: strings.TrimSpace(text(obj["id"])), Name: r.plain(text(obj["name"])),
		Status: strings.ToLower(strings.TrimSpace(text(obj["status"])))}
	if isORUK1(obj) {
		rec.Format = ORUK1
	} else if err := r.schema.Validate(obj); err != nil {
		rec.Problems = append(rec.Problems, r.schemaProblems(err)...)
	}
	org, _ := obj["organization"].(map[string]any)
	rec.Organisation = r.plain(text(org["name"]))
	rec.Description = r.plain(text(obj["description"]))
	rec.Eligibility = r.plain(text(obj["eligibility_description"]))
	rec.Email = firstEmail(obj, org)
	rec.TaxonomyTerms = taxonomyTerms(obj)
	rec.Areas = serviceAreas(obj)
	rec.MinAge, rec.MaxAge = age(obj["minimum_age"]), age(obj["maximum_age"])
	rec.LastModified = lastModified(obj)

	// What routing needs, in both shapes.
	switch {
	case rec.ID == "":
		rec.Problems = append(rec.Problems, `it has no "id"`)
	case len(rec.ID) > 200:
		rec.Problems = append(rec.Problems, `its "id" is longer than 200 characters`)
	}
	if rec.Name == "" {
		rec.Problems = append(rec.Problems, `it has no "name"`)
	}
	if rec.Format == ORUK1 && rec.Organisation == "" {
		rec.Problems = append(rec.Problems, `it has no "organization" name`)
	}
	switch {
	case rec.Status == "":
		rec.Problems = append(rec.Problems, `it has no "status"`)
	case rec.Status != "active":
		rec.Problems = append(rec.Problems, fmt.Sprintf("its status is %q: only active services are imported", rec.Status))
	}
	for _, a := range []struct {
		field string
		v     any
	}{{"minimum_age", obj["minimum_age"]}, {"maximum_age", obj["maximum_age"]}} {
		if a.v != nil && text(a.v) != "" && age(a.v) == nil {
			rec.Problems = append(rec.Problems, fmt.Sprintf("its %s %s is not an age from 0 to 120", a.field, text(a.v)))
		}
	}
	if rec.MinAge != nil && rec.MaxAge != nil && *rec.MinAge > *rec.MaxAge {
		rec.Problems = append(rec.Problems, fmt.Sprintf("its minimum_age %d is above its maximum_age %d", *rec.MinAge, *rec.MaxAge))
	}
	if len(rec.Problems) > maxProblems {
		rec.Problems = rec.Problems[:maxProblems]
	}
	return rec
}

// schemaProblems lists the first places a record breaks the schema, like
// `/minimum_age: got string, want number`.
func (r *Reader) schemaProblems(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{"it does not match the HSDS 3.1 service schema: " + err.Error()}
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(out) >= maxProblems {
			return
		}
		if len(e.Causes) == 0 {
			at := "/" + strings.Join(e.InstanceLocation, "/")
			out = append(out, fmt.Sprintf("it does not match the HSDS 3.1 schema at %s: %s", at, e.ErrorKind.LocalizedString(r.printer)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.Strings(out)
	return out
}

var blockTag = regexp.MustCompile(`(?i)<\s*/?\s*(p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article)\b[^>]*>`)

// plain turns HTML (as real feeds put in descriptions) into plain text: tags removed, block
// elements kept apart by a space, entities unescaped, runs of white space made one space.
func (r *Reader) plain(s string) string {
	if s == "" {
		return ""
	}
	s = blockTag.ReplaceAllString(s, " $0 ")
	s = html.UnescapeString(r.sanitise.Sanitize(s))
	// Unescaping may reveal markup that was escaped in the source ("&lt;b&gt;"): strip it too,
	// so that what is shown is text.
	if strings.ContainsRune(s, '<') {
		s = html.UnescapeString(r.sanitise.Sanitize(s))
	}
	return strings.Join(strings.Fields(s), " ")
}

// text is a JSON value as a string: strings as they are, numbers in their JSON form, else "".
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

func intField(obj map[string]any, key string) int {
	n, ok := obj[key].(json.Number)
	if !ok {
		return 0
	}
	i, err := n.Int64()
	if err != nil {
		return 0
	}
	return int(i)
}

// age reads an age given as a number (or a numeric string, as some feeds send), nil when absent
// or not an age from 0 to 120. Fractions are rounded down.
func age(v any) *int {
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return nil
		}
	case string:
		if strings.TrimSpace(x) == "" {
			return nil
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(x)), &f); err != nil {
			return nil
		}
	default:
		return nil
	}
	if math.IsNaN(f) || f < 0 || f > 120 {
		return nil
	}
	n := int(math.Floor(f))
	return &n
}

// firstEmail is the service's own email, else its first contact's, else its organisation's.
func firstEmail(obj, org map[string]any) string {
	if e := strings.TrimSpace(text(obj["email"])); e != "" {
		return e
	}
	if contacts, ok := obj["contacts"].([]any); ok {
		for _, c := range contacts {
			if cm, ok := c.(map[string]any); ok {
				if e := strings.TrimSpace(text(cm["email"])); e != "" {
					return e
				}
			}
		}
	}
	return strings.TrimSpace(text(org["email"]))
}

// taxonomyTerms reads attributes → taxonomy_term: each term as its URI and as the CURIE
// taxonomy:code (or the bare code when it names no taxonomy), the forms categories list.
func taxonomyTerms(obj map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.TrimSpace(t)
		if t != "" && !seen[t] && utf8.RuneCountInString(t) <= 200 {
			seen[t] = true
			out = append(out, t)
		}
	}
	attrs, _ := obj["attributes"].([]any)
	for _, a := range attrs {
		am, _ := a.(map[string]any)
		term, _ := am["taxonomy_term"].(map[string]any)
		if term == nil {
			continue
		}
		code := strings.TrimSpace(text(term["code"]))
		taxonomy := strings.TrimSpace(text(term["taxonomy"]))
		if detail, ok := term["taxonomy_detail"].(map[string]any); ok && taxonomy == "" {
			taxonomy = strings.TrimSpace(text(detail["name"]))
		}
		switch {
		case code != "" && strings.Contains(code, ":"):
			add(code)
		case code != "" && taxonomy != "" && !strings.ContainsAny(taxonomy, " /"):
			add(taxonomy + ":" + code)
		case code != "":
			add(code)
		}
		add(text(term["term_uri"]))
	}
	return out
}

// serviceAreas reads service_areas: each area's name, extent (when it is not a geometry) and
// ORUK's service_area text.
func serviceAreas(obj map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	areas, _ := obj["service_areas"].([]any)
	for _, a := range areas {
		am, _ := a.(map[string]any)
		for _, k := range []string{"name", "service_area", "extent"} {
			v := strings.Join(strings.Fields(text(am[k])), " ")
			if k == "extent" && strings.ContainsAny(v, "{[") { // GeoJSON or WKT: not a name
				continue
			}
			if v != "" && !seen[strings.ToLower(v)] {
				seen[strings.ToLower(v)] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// lastModified is last_modified, else the ORUK v1 supplier's date_modified, else assured_date.
func lastModified(obj map[string]any) time.Time {
	meta, _ := obj["pc_metadata"].(map[string]any)
	for _, v := range []string{text(obj["last_modified"]), text(meta["date_modified"]), text(obj["assured_date"])} {
		if t, ok := parseTime(v); ok {
			return t
		}
	}
	return time.Time{}
}

func parseTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Truncate(time.Microsecond), true
		}
	}
	return time.Time{}, false
}
