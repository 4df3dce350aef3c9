package openreferral

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Doer sends an HTTP request; *http.Client is one.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Feed limits: a directory is read page by page, each page at most maxPageBytes, at most
// maxPages pages, so that a runaway feed cannot fill the memory or run for ever.
const (
	maxPageBytes = 20 << 20
	maxPages     = 2000
)

// FeedError means a feed could not be read; Message is written for the coordinator.
type FeedError struct {
	Message string
}

func (e *FeedError) Error() string { return "feed: " + e.Message }

// ServicesURL is the address of a directory's service list: the URL as given when it already
// ends in /services, else with /services added.
func ServicesURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &FeedError{Message: "give the directory's address, starting with https://"}
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return nil, &FeedError{Message: "the directory's address must start with https:// (http:// only for localhost, for testing)"}
	}
	if u.User != nil {
		return nil, &FeedError{Message: "the directory's address must not hold a user name or password"}
	}
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/services") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/services"
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// IsLoopback reports whether host is this machine (localhost, 127.0.0.0/8 or ::1), the only
// place plain http:// is allowed, for testing.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Fetch reads every page of a directory's /services?full=true (paged by ?page=), asking only for
// services changed since modifiedAfter when it is not zero, and returns the records of all pages
// in order. Nothing is returned unless every page was read and parsed.
func (r *Reader) Fetch(ctx context.Context, client Doer, feed *url.URL, modifiedAfter time.Time) ([]Record, error) {
	var all []Record
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, &FeedError{Message: fmt.Sprintf("the directory has more than %d pages; import it in parts", maxPages)}
		}
		u := *feed
		q := url.Values{"full": {"true"}, "page": {strconv.Itoa(page)}}
		if !modifiedAfter.IsZero() {
			q.Set("modified_after", modifiedAfter.UTC().Format(time.RFC3339))
		}
		u.RawQuery = q.Encode()
		data, err := get(ctx, client, u.String())
		if err != nil {
			return nil, err
		}
		batch, err := r.Parse(data)
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				return nil, &FormatError{Problems: append([]string{fmt.Sprintf("page %d of the feed", page)}, fe.Problems...)}
			}
			return nil, err
		}
		for _, rec := range batch.Records {
			rec.Index = len(all) + 1
			all = append(all, rec)
		}
		p := batch.Page
		if p == nil || p.LastPage || p.Empty || len(batch.Records) == 0 || (p.TotalPages > 0 && page >= p.TotalPages) {
			return all, nil
		}
	}
}

func get(ctx context.Context, client Doer, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &FeedError{Message: "the directory's address cannot be used: " + err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, &FeedError{Message: fmt.Sprintf("the directory at %s did not answer: %v", redact(req.URL), err)}
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, &FeedError{Message: fmt.Sprintf("the directory at %s answered %s", redact(req.URL), res.Status)}
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxPageBytes+1))
	if err != nil {
		return nil, &FeedError{Message: fmt.Sprintf("reading the directory at %s failed: %v", redact(req.URL), err)}
	}
	if len(data) > maxPageBytes {
		return nil, &FeedError{Message: fmt.Sprintf("a page of the directory is larger than %d MB", maxPageBytes>>20)}
	}
	return data, nil
}

func redact(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	return c.String()
}
