package handlers_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/models"
)

// Revoking a PIN by value puts it in the path; the request log must not repeat it, whether the
// revoke works or not (a failed one is logged as an error).
func TestRevokedPINNotLogged(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "single")
	a.do("DELETE", "/api/admin/registration-token/"+pin, nil).must(t, 200)
	a.do("DELETE", "/api/admin/registration-token/"+pin, nil).must(t, 404)
	logs := ts.logs.String()
	if regexp.MustCompile(`(^|\D)` + pin + `(\D|$)`).MatchString(logs) {
		t.Fatalf("the log shows the revoked PIN %s:\n%s", pin, logs)
	}
	if !strings.Contains(logs, "path=/api/admin/registration-token/:token status=404") {
		t.Fatalf("the failed revoke is not logged by its route:\n%s", logs)
	}
}

// The CSRF token counts only from the header or the form body: a URL (which ends up in logs,
// history and Referer headers) cannot carry it.
func TestCSRFNotFromQuery(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	room := func(name string) url.Values { return url.Values{"name": {name}, "rows": {"1"}, "cols": {"1"}} }
	exists := func(name string) bool {
		_, err := ts.store.RoomByName(t.Context(), name)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	res := a.sendForm("POST", "/layout/rooms?csrf_token="+url.QueryEscape(a.csrf), room("Query"))
	if res.Status != 403 || exists("Query") {
		t.Fatalf("token in the query string: %d, room created %v", res.Status, exists("Query"))
	}

	a.form("POST", "/layout/rooms", room("Header"), false).must(t, 200)
	body := room("Body")
	body.Set("csrf_token", a.csrf)
	a.sendForm("POST", "/layout/rooms", body).must(t, 200)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range room("Multipart") {
		mw.WriteField(k, v[0])
	}
	mw.WriteField("csrf_token", a.csrf)
	mw.Close()
	ts.do(a.client, "POST", "/layout/rooms", buf.Bytes(), "Content-Type", mw.FormDataContentType()).must(t, 200)
	for _, name := range []string{"Header", "Body", "Multipart"} {
		if !exists(name) {
			t.Errorf("room %s with the token in the %s was not created", name, name)
		}
	}
}
