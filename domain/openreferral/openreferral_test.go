package openreferral_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/domain/openreferral"
	"github.com/coop-exchange/coop/internal/testenv"
)

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Standards(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newReader(t *testing.T) *openreferral.Reader {
	t.Helper()
	r, err := openreferral.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The schema the program embeds is the one in the reference data, byte for byte.
func TestEmbeddedSchemaIsTheReferenceOne(t *testing.T) {
	want := read(t, "hsds-3.1/schema/service_with_definitions.json")
	got, err := os.ReadFile("schema/hsds-3.1-service_with_definitions.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("schema/hsds-3.1-service_with_definitions.json differs from the reference hsds-3.1/schema/service_with_definitions.json")
	}
}

func TestRealCouncilFeedReadsAsORUK1(t *testing.T) {
	batch, err := newReader(t).Parse(read(t, "oruk-1.0-real-feed-sample/north-lincolnshire-services-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Records) != 40 {
		t.Fatalf("%d records, want 40", len(batch.Records))
	}
	for _, r := range batch.Records {
		if r.Format != openreferral.ORUK1 {
			t.Errorf("record %d (%s) read as %s", r.Index, r.Name, r.Format)
		}
		if !r.Usable() {
			t.Errorf("record %d (%s) cannot be used: %v", r.Index, r.Name, r.Problems)
		}
		if strings.ContainsAny(r.Description, "<>") || strings.Contains(r.Description, "&amp;") || strings.Contains(r.Description, "&nbsp;") {
			t.Errorf("record %d keeps markup in its description: %q", r.Index, r.Description)
		}
		if r.LastModified.IsZero() || r.Organisation == "" {
			t.Errorf("record %d lacks its date or organisation: %+v", r.Index, r)
		}
	}
	first := batch.Records[0]
	if first.ID != "738f94e0-aa6c-6a5c-2395-7b64421ba2a5" || first.Organisation != "Victor House" || first.Email != "victorhouse@northlincs.gov.uk" {
		t.Errorf("first record: %+v", first)
	}
	if want := "Struggling with Drug & Alcohol Addiction? We Are With You provide"; !strings.HasPrefix(first.Description, want) {
		t.Errorf("description %q, want it to start %q", first.Description, want)
	}
	if !strings.Contains(first.Description, "challenges with drugs & alcohol. We Are With You are now") {
		t.Errorf("paragraphs run together or keep entities: %q", first.Description)
	}
	talk := batch.Records[1]
	if !strings.Contains(talk.Description, "Support can include: talking with an experienced bereavement worker support creating memory boxes") {
		t.Errorf("list items not kept apart: %q", talk.Description)
	}
}

func TestHSDSFullExampleReadsWithItsTerms(t *testing.T) {
	batch, err := newReader(t).Parse(read(t, "hsds-3.1/examples/service_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Records) != 1 {
		t.Fatalf("%d records", len(batch.Records))
	}
	r := batch.Records[0]
	if !r.Usable() || r.Format != openreferral.HSDS3 {
		t.Fatalf("not usable: %v (%s)", r.Problems, r.Format)
	}
	if strings.Join(r.TaxonomyTerms, " ") != "taxonomy:code http://example.com" {
		t.Errorf("terms %q", r.TaxonomyTerms)
	}
	if r.MinAge == nil || *r.MinAge != 12 || r.MaxAge == nil || *r.MaxAge != 100 || r.Organisation != "Example Organization Inc." {
		t.Errorf("ages or organisation: %+v", r)
	}
	if r.LastModified.Format("2006-01-02T15:04:05.000Z") != "2023-03-15T10:30:45.123Z" {
		t.Errorf("last modified %v", r.LastModified)
	}
}

func TestListsAndPages(t *testing.T) {
	reader := newReader(t)
	page, err := reader.Parse(read(t, "hsds-3.1/examples/service_list.json"))
	if err != nil {
		t.Fatal(err)
	}
	if page.Page == nil || page.Page.TotalPages != 10 || page.Page.LastPage || len(page.Records) != 1 || !page.Records[0].Usable() {
		t.Errorf("page: %+v %+v", page.Page, page.Records)
	}
	oruk, err := reader.Parse(read(t, "oruk-3.0/examples/service_full.json"))
	if err != nil || len(oruk.Records) != 1 || !oruk.Records[0].Usable() {
		t.Fatalf("ORUK 3.0 example: %v %+v", err, oruk.Records)
	}
	list := []byte(`[` + string(read(t, "hsds-3.1/examples/service_full.json")) + `, {"id": "x2", "name": "Closed one", "status": "defunct"},
		{"id": "x3", "name": "Odd ages", "status": "active", "minimum_age": "twelve"}]`)
	batch, err := reader.Parse(list)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Records) != 3 || !batch.Records[0].Usable() {
		t.Fatalf("list: %+v", batch.Records)
	}
	if p := strings.Join(batch.Records[1].Problems, "; "); !strings.Contains(p, `status is "defunct": only active services are imported`) {
		t.Errorf("defunct service: %q", p)
	}
	if p := strings.Join(batch.Records[2].Problems, "; "); !strings.Contains(p, "/minimum_age") {
		t.Errorf("a string age is not reported against the schema: %q", p)
	}
}

func TestDocumentsThatAreNotDirectories(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"not JSON", "id,name\n1,Carers centre\n", "the file is not JSON: invalid character"},
		{"truncated", `[{"id": "a", "name": "b"`, "the file is not JSON: it ends before the JSON does"},
		{"empty", "  ", "the file is empty"},
		{"a number", "42", "a single JSON value"},
		{"another kind of JSON", `{"type": "FeatureCollection", "features": []}`, `entry 1 has no "id" and no "name"`},
		{"a list of strings", `["a", "b"]`, "entry 1 is not a JSON object"},
		{"contents not a list", `{"contents": 3}`, `"contents" is not a list`},
	}
	reader := newReader(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := reader.Parse([]byte(c.doc))
			var fe *openreferral.FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want a FormatError saying %q", err, c.want)
			}
		})
	}
}

func TestServicesURL(t *testing.T) {
	cases := map[string]string{
		"https://directory.example.org/api":           "https://directory.example.org/api/services",
		"https://directory.example.org/api/services/": "https://directory.example.org/api/services",
		"http://127.0.0.1:8080":                       "http://127.0.0.1:8080/services",
		"http://directory.example.org/":               "error",
		"ftp://directory.example.org/":                "error",
		"https://user:pw@directory.example.org/":      "error",
	}
	for in, want := range cases {
		u, err := openreferral.ServicesURL(in)
		got := "error"
		if err == nil {
			got = u.String()
		}
		if got != want {
			t.Errorf("ServicesURL(%q) = %q (%v), want %q", in, got, err, want)
		}
	}
}
