package app

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
)

// serveRecording serves recording n of a call: GET /recordings/{call}/{n}. The call is
// read through access control (a call outside the viewer's scope does not exist for
// them); listening needs recordings.listen on one of the queues the call went through
// (the grant's listen flag); every listen is audited before a byte is sent. The file
// comes from the server's recordings location: a local folder (served with byte
// ranges, so a player can seek) or a base URL (redirected to). Only the file's base
// name is used, so a recording path can never leave that folder.
func (a *App) serveRecording(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err1 := strconv.Atoi(r.PathValue("call"))
	n, err2 := strconv.Atoi(r.PathValue("n"))
	if err1 != nil || err2 != nil || n < 0 {
		http.Error(w, "recordings: want /recordings/{call id}/{index}", http.StatusNotFound)
		return
	}
	c, err := a.Client.Call.Query().Where(call.ID(id)).WithVisits().WithServer().Only(ctx)
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	case ent.IsNotFound(err) || errors.As(err, new(*auth.PermissionError)):
		http.NotFound(w, r)
		return
	case err != nil:
		a.log.Error("recordings: read call", "call", id, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if n >= len(c.Recordings) {
		http.NotFound(w, r)
		return
	}
	if !mayListen(r, c) {
		http.Error(w, "recordings: you may not listen to this queue's recordings", http.StatusForbidden)
		return
	}
	loc := ""
	if c.Edges.Server != nil {
		loc = c.Edges.Server.RecordingsLocation
	}
	if loc == "" {
		http.Error(w, "recordings: no recordings location is configured for this server", http.StatusNotFound)
		return
	}
	file := c.Recordings[n]
	name := path.Base(filepath.ToSlash(file))
	if name == "." || name == "/" {
		http.NotFound(w, r)
		return
	}
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		if a.auditListen(w, r, id, file) {
			http.Redirect(w, r, strings.TrimRight(loc, "/")+"/"+url.PathEscape(name), http.StatusFound)
		}
		return
	}
	f, err := os.Open(filepath.Join(loc, name))
	if err != nil {
		http.Error(w, fmt.Sprintf("recordings: %s is not in the recordings folder", name), http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	if !a.auditListen(w, r, id, file) {
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, name, st.ModTime(), f)
}

// mayListen: the listen permission on one of the call's queues, or on everything for a
// call that went through no queue.
func mayListen(r *http.Request, c *ent.Call) bool {
	ctx := r.Context()
	if len(c.Edges.Visits) == 0 {
		return auth.Can(ctx, viewer.RecordingsListen, "*") == nil
	}
	for _, v := range c.Edges.Visits {
		if auth.Can(ctx, viewer.RecordingsListen, fmt.Sprintf("queue/%d", v.QueueID)) == nil {
			return true
		}
	}
	return false
}

// auditListen records the listen before anything is sent; without the audit log,
// nothing is.
func (a *App) auditListen(w http.ResponseWriter, r *http.Request, callID int, file string) bool {
	if err := a.Auth.RecordListen(r.Context(), callID, file); err != nil {
		http.Error(w, "recordings: audit log unavailable", http.StatusServiceUnavailable)
		return false
	}
	return true
}
