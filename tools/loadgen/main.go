// Command loadgen sends HTTP requests at a fixed rate (open loop, so that a slow answer does not
// slow the senders and hide itself) and reports latency percentiles and throughput. It signs in
// through the co-op's sign-in form first when given an email and password, so that it can load
// pages as a member would. It talks only to the address it is given; use it on 127.0.0.1.
//
//	go run ./tools/loadgen -base http://127.0.0.1:3000 -email x@synthetic.invalid -password synthetic-member \
//	    -paths paths.txt -rate 200 -duration 30s
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:3000", "the co-op's address")
	email := flag.String("email", "", "sign in as this member first (with -password)")
	password := flag.String("password", "", "the member's password")
	bearer := flag.String("bearer", "", "send this API token instead of signing in")
	pathsFile := flag.String("paths", "", "a file of paths to request, one a line, chosen at random")
	path := flag.String("path", "/healthz", "the path to request, when no -paths file is given")
	rate := flag.Int("rate", 200, "requests a second")
	duration := flag.Duration("duration", 30*time.Second, "how long to send")
	warmup := flag.Duration("warmup", 3*time.Second, "send at the rate for this long first, without measuring")
	seed := flag.Uint64("seed", 1, "the seed for choosing paths")
	flag.Parse()
	if *rate < 1 || *duration <= 0 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "loadgen: give a -rate of 1 or more and a positive -duration")
		os.Exit(2)
	}
	if err := run(*base, *email, *password, *bearer, *pathsFile, *path, *rate, *duration, *warmup, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func run(base, email, password, bearer, pathsFile, path string, rate int, duration, warmup time.Duration, seed uint64) error {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if email != "" {
		if err := signIn(client, base, email, password); err != nil {
			return err
		}
	}
	paths := []string{path}
	if pathsFile != "" {
		b, err := os.ReadFile(pathsFile)
		if err != nil {
			return err
		}
		paths = strings.Fields(string(b))
		if len(paths) == 0 {
			return fmt.Errorf("%s has no paths", pathsFile)
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	type result struct {
		latency time.Duration
		status  int
		err     error
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	total := int((warmup + duration) / interval)
	warm := int(warmup / interval)
	begin := time.Now()
	sem := make(chan struct{}, 1000)
	for i := range total {
		due := begin.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		p := paths[rng.IntN(len(paths))]
		measured := i >= warm
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, _ := http.NewRequest(http.MethodGet, base+p, nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			res, err := client.Do(req)
			status := 0
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				status = res.StatusCode
			}
			// Latency counts from when the request was due, not when it was sent.
			lat := time.Since(due)
			if measured {
				mu.Lock()
				results = append(results, result{lat, status, err})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin.Add(warmup))
	lats := make([]time.Duration, 0, len(results))
	statuses := map[int]int{}
	errs := 0
	for _, r := range results {
		if r.err != nil {
			errs++
			continue
		}
		statuses[r.status]++
		lats = append(lats, r.latency)
	}
	slices.Sort(lats)
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[min(len(lats)-1, int(float64(len(lats))*p))]
	}
	fmt.Printf("requests %d in %s at a target of %d/s: throughput %.1f/s\n", len(results), elapsed.Round(time.Millisecond), rate, float64(len(results))/elapsed.Seconds())
	fmt.Printf("latency p50 %s  p95 %s  p99 %s  max %s\n", ms(pct(0.50)), ms(pct(0.95)), ms(pct(0.99)), ms(pct(1)))
	fmt.Printf("statuses %v, errors %d\n", statuses, errs)
	if statuses[http.StatusOK] != len(results) {
		return fmt.Errorf("not every answer was 200 OK")
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// signIn goes through the sign-in form as a browser would.
func signIn(client *http.Client, base, email, password string) error {
	res, err := client.Get(base + "/signin")
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("no form token on the sign-in page")
	}
	res, err = client.PostForm(base+"/signin", url.Values{"_csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(bufio.NewReader(res.Body))
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign in as %s: status %d: %.300s", email, res.StatusCode, body)
	}
	return nil
}
