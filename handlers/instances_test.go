package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// The status page lists every instance on the database: this one first and leading (it is
// alone), one running elsewhere, and one that stopped writing its row.
func TestStatusPageShowsEveryInstance(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ctx := context.Background()
	now := time.Now()
	for _, in := range []models.Instance{
		{ID: "bbbb", Name: "server-b :5050", Version: "test", StartedAt: now.Add(-time.Hour), SeenAt: now},
		{ID: "cccc", Name: "server-c :5050", Version: "test", StartedAt: now.Add(-time.Hour), SeenAt: now.Add(-time.Minute), Leader: true},
	} {
		if err := ts.store.SaveInstance(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// This instance writes its row as it starts, and again every 5 s; on PostgreSQL it leads once
	// its listening connection has taken the lock (cluster.Bus), after the first row.
	deadline := time.Now().Add(12 * time.Second)
	for {
		doc := htmlDoc(t, a.htmx("GET", "/status").must(t, 200))
		rows := byTestIDAll(doc, "instance")
		if (len(rows) < 3 || attr(rows[0], "data-leader") != "true") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if len(rows) != 3 {
			t.Fatalf("%d instances shown, want 3", len(rows))
		}
		this, b, c := rows[0], rows[1], rows[2]
		if !strings.Contains(textOf(this), "이 화면을 보낸 서버") || attr(this, "data-leader") != "true" || attr(this, "data-silent") != "false" {
			t.Errorf("this instance: %q leader=%s silent=%s", textOf(this), attr(this, "data-leader"), attr(this, "data-silent"))
		}
		if attr(b, "data-instance-id") != "bbbb" || attr(b, "data-silent") != "false" || attr(b, "data-leader") != "false" {
			t.Errorf("running instance: %v", b.Attr)
		}
		// A silent one may have led when it stopped: it no longer does.
		if attr(c, "data-instance-id") != "cccc" || attr(c, "data-silent") != "true" || attr(c, "data-leader") != "false" ||
			!strings.Contains(textOf(c), "응답 없음") {
			t.Errorf("stopped instance: %q %v", textOf(c), c.Attr)
		}
		return
	}
}
