package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// apiSpec is the OpenAPI document, loaded and validated, with a router to find operations.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

func loadSpec(t *testing.T) *apiSpec {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("the OpenAPI document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiSpec{doc: doc, router: router}
}

// check validates an API answer against the document: its status must be documented for the
// operation, and its body must match the schema given for that status.
func (s *apiSpec) check(t *testing.T, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	if req.Method == http.MethodHead {
		return // the GET beside it is described; a HEAD answer has no body to check
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil && res.StatusCode == http.StatusNotFound {
		return // an address the API does not have
	}
	if err != nil {
		t.Errorf("%s %s is not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("%s %s answered %d, which the OpenAPI document does not allow: %v\nbody: %.400s", req.Method, req.URL.Path, res.StatusCode, err, body)
	}
}

// routeParam is a parameter in a Fiber route, like :id, which OpenAPI writes {id}.
var routeParam = regexp.MustCompile(`:(\w+)`)

// TestOpenAPIDescribesEveryRoute checks that every /api/v1 route the server registers is in the
// document, and that the document describes no route that does not exist.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	spec := loadSpec(t)
	h := newHarness(t, storetest.Open(t, store.SQLite))
	registered := map[string]bool{}
	for _, r := range h.srv.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		path := routeParam.ReplaceAllString(r.Path, "{$1}")
		registered[r.Method+" "+path] = true
		item := spec.doc.Paths.Value(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("%s %s is not described in openapi.json", r.Method, path)
		}
	}
	for path, item := range spec.doc.Paths.Map() {
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				t.Errorf("openapi.json describes %s %s, which the server does not have", method, path)
			}
		}
	}
	res := h.visitor().get("/api/v1/openapi.json")
	expectStatus(t, res, http.StatusOK)
	if got, want := body(res), mustRead(t, "openapi.json"); got != want {
		t.Error("GET /api/v1/openapi.json does not serve the document")
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
