// Package web serves the Linkage web app: a single-page app built by Vite into
// dist/app and embedded in the binary. Without a build (a plain `go build` on a
// fresh clone) it serves dist/placeholder.html, which says how to build the app.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// apiPrefixes are paths the app never owns: an unknown path under them is a 404,
// not the app's index.html (a typo in an API URL must not answer 200 with HTML).
var apiPrefixes = []string{"/graphql", "/graphiql", "/export/", "/healthz", "/readyz", "/metrics", "/recordings/", "/api/"}

// Handler serves the embedded app at /: hashed files under /assets/ are cached
// for a year (their names change with their content), index.html is never cached,
// and every other GET path answers index.html so deep links work (history routing).
func Handler() http.Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err == nil {
		if _, err = fs.Stat(app, "index.html"); err == nil {
			return newHandler(app)
		}
	}
	return placeholder()
}

// Built reports whether the binary carries a web build.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

type handler struct {
	files fs.FS
	index []byte
	mu    sync.Mutex
	gz    map[string][]byte // gzip of compressible assets, made once on first request
}

func newHandler(files fs.FS) http.Handler {
	index, _ := fs.ReadFile(files, "index.html")
	return &handler{files: files, index: index, gz: map[string][]byte{}}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	for _, pre := range apiPrefixes {
		if p == strings.TrimSuffix(pre, "/") || strings.HasPrefix(p, pre) {
			http.NotFound(w, r)
			return
		}
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" || name == "index.html" {
		h.serveIndex(w, r)
		return
	}
	data, err := fs.ReadFile(h.files, name)
	if err != nil {
		// A missing file with an extension (a stale /assets/x.js, /favicon.ico) is a 404;
		// a path without one is a route of the app.
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			w.Header().Set("Cache-Control", "no-store")
			http.NotFound(w, r)
			return
		}
		h.serveIndex(w, r)
		return
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	h.serveFile(w, r, name, data)
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store, max-age=0")
	h.serveFile(w, r, "index.html", h.index)
}

// serveFile answers gzip when the client accepts it and the type compresses well.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Add("Vary", "Accept-Encoding")
	if compressible(name) && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		if z := h.gzipped(name, data); z != nil {
			w.Header().Set("Content-Encoding", "gzip")
			ctype := mimeType(name)
			w.Header().Set("Content-Type", ctype)
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(z))
			return
		}
	}
	w.Header().Set("Content-Type", mimeType(name))
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

func (h *handler) gzipped(name string, data []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if z, ok := h.gz[name]; ok {
		return z
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil || zw.Close() != nil {
		return nil
	}
	h.gz[name] = b.Bytes()
	return h.gz[name]
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".js", ".css", ".html", ".json", ".svg", ".txt", ".map":
		return true
	}
	return false
}

func mimeType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	}
	return "application/octet-stream"
}

func placeholder() http.Handler {
	page, _ := dist.ReadFile("dist/placeholder.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, pre := range apiPrefixes {
			if r.URL.Path == strings.TrimSuffix(pre, "/") || strings.HasPrefix(r.URL.Path, pre) {
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(page)
	})
}
