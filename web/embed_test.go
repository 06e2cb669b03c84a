package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	files := fstest.MapFS{
		"index.html":          {Data: []byte("<!doctype html><title>app</title>")},
		"assets/main-abc1.js": {Data: []byte(strings.Repeat("console.log(1);", 100))},
		"robots.txt":          {Data: []byte("User-agent: *")},
	}
	h := newHandler(files)
	cases := []struct {
		method, path, accept string
		code                 int
		cache, body          string
		gzip                 bool
	}{
		{"GET", "/", "", 200, "no-store, max-age=0", "<title>app</title>", false},
		{"GET", "/live/wall", "", 200, "no-store, max-age=0", "<title>app</title>", false},
		{"GET", "/calls/42", "gzip", 200, "no-store, max-age=0", "<title>app</title>", true},
		{"GET", "/assets/main-abc1.js", "", 200, "public, max-age=31536000, immutable", "console.log(1);", false},
		{"GET", "/assets/main-abc1.js", "gzip, br", 200, "public, max-age=31536000, immutable", "console.log(1);", true},
		{"GET", "/assets/gone-0000.js", "", 404, "no-store", "", false},
		{"GET", "/favicon.ico", "", 404, "no-store", "", false},
		{"GET", "/robots.txt", "", 200, "no-cache", "User-agent", false},
		{"GET", "/graphql/nope", "", 404, "", "", false},
		{"GET", "/export/x.csv", "", 404, "", "", false},
		{"POST", "/live", "", 405, "", "", false},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.accept != "" {
			req.Header.Set("Accept-Encoding", c.accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s %s: code %d, want %d", c.method, c.path, rec.Code, c.code)
			continue
		}
		if got := rec.Header().Get("Cache-Control"); c.cache != "" && got != c.cache {
			t.Errorf("%s %s: Cache-Control %q, want %q", c.method, c.path, got, c.cache)
		}
		var body io.Reader = rec.Body
		if c.gzip {
			if rec.Header().Get("Content-Encoding") != "gzip" {
				t.Errorf("%s %s: not gzipped", c.method, c.path)
				continue
			}
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		if !strings.Contains(string(b), c.body) {
			t.Errorf("%s %s: body %.60q, want it to contain %q", c.method, c.path, b, c.body)
		}
	}
}

func TestPlaceholderWhenNotBuilt(t *testing.T) {
	h := placeholder()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/reports/summary", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "make web") {
		t.Fatalf("placeholder: %d %q", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("placeholder must not be cached")
	}
}
