package message

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

func TestSQLStore(t *testing.T) { dbtest.Run(t, testSQLStore) }

func testSQLStore(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	store := NewSQLStore(open.Migrated(t, Migrate))
	if latest, err := store.LatestTime(ctx, "1_2"); err != nil || latest != 0 {
		t.Fatalf("latest of an empty conversation = %d %v, want 0", latest, err)
	}
	// Two inserts asking for the same time: the second is moved one past the first.
	first := &Message{ConversationKey: "1_2", FromUserID: 1, ToUserID: 2, Content: "a", CreatedAt: 500}
	second := &Message{ConversationKey: "1_2", FromUserID: 2, ToUserID: 1, Content: "b", CreatedAt: 500}
	other := &Message{ConversationKey: "1_3", FromUserID: 3, ToUserID: 1, Content: "c", CreatedAt: 100}
	for _, m := range []*Message{first, second, other} {
		if err := store.InsertMessage(ctx, m); err != nil || m.ID <= 0 {
			t.Fatalf("insert: id %d, %v", m.ID, err)
		}
	}
	if first.CreatedAt != 500 || second.CreatedAt != 501 || other.CreatedAt != 100 {
		t.Fatalf("times %d %d %d, want 500 501 100", first.CreatedAt, second.CreatedAt, other.CreatedAt)
	}
	if latest, err := store.LatestTime(ctx, "1_2"); err != nil || latest != 501 {
		t.Fatalf("latest = %d %v, want 501", latest, err)
	}
	rows, err := store.ConversationMessages(ctx, "1_2", 0, 1)
	if err != nil || len(rows) != 1 || rows[0].ID != second.ID {
		t.Fatalf("newest 1 = %+v %v, want the second message", rows, err)
	}
	rows, err = store.ConversationMessages(ctx, "1_2", 0, 10)
	if err != nil || len(rows) != 2 || rows[0].ID != first.ID || rows[1].ID != second.ID {
		t.Fatalf("all = %+v %v, want oldest first", rows, err)
	}
	latest, err := store.LatestMessages(ctx, []string{"1_2", "1_3", "9_10"})
	if err != nil || len(latest) != 2 {
		t.Fatalf("latest messages = %+v %v", latest, err)
	}
	byKey := map[string]string{}
	for _, m := range latest {
		byKey[m.ConversationKey] = m.Content
	}
	if byKey["1_2"] != "b" || byKey["1_3"] != "c" {
		t.Fatalf("latest by conversation = %v", byKey)
	}
	if rows, err := store.LatestMessages(ctx, nil); err != nil || rows == nil || len(rows) != 0 {
		t.Fatalf("no keys: %#v %v", rows, err)
	}
}

// TestConcurrentInsertsGetDistinctIncreasingTimes sends 20 messages at once into a new
// conversation, all asking for the same time: every one must be stored, at distinct times.
// On MySQL the senders deadlock on the conversation's gap and the store retries.
func TestConcurrentInsertsGetDistinctIncreasingTimes(t *testing.T) {
	dbtest.Run(t, testConcurrentInsertsGetDistinctIncreasingTimes)
}

func testConcurrentInsertsGetDistinctIncreasingTimes(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	// A neighbouring conversation, so the new one's gap is bounded by rows on both sides.
	if err := st.InsertMessage(ctx, &Message{ConversationKey: "1_2", FromUserID: 1, ToUserID: 2, Content: "x", CreatedAt: 5}); err != nil {
		t.Fatal(err)
	}
	const senders = 20
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &Message{ConversationKey: "5_6", FromUserID: 5 + int64(i%2), ToUserID: 6 - int64(i%2), Content: fmt.Sprint(i), CreatedAt: 1000}
			if err := st.InsertMessage(ctx, m); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rows, err := st.ConversationMessages(ctx, "5_6", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != senders {
		t.Fatalf("%d messages stored, want %d", len(rows), senders)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].CreatedAt <= rows[i-1].CreatedAt {
			t.Fatalf("times not strictly increasing: %d then %d", rows[i-1].CreatedAt, rows[i].CreatedAt)
		}
	}
	if rows[0].CreatedAt != 1000 || rows[senders-1].CreatedAt != 1000+senders-1 {
		t.Fatalf("times run %d..%d, want 1000..%d", rows[0].CreatedAt, rows[senders-1].CreatedAt, 1000+senders-1)
	}
}

// TestHotQueriesUseIndexes checks with EXPLAIN on MariaDB and SQLite that every chat read goes
// through the (conversation_key, created_at) index.
func TestHotQueriesUseIndexes(t *testing.T) { dbtest.Run(t, testHotQueriesUseIndexes) }

func testHotQueriesUseIndexes(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
	var msgs []Message
	// Enough messages per conversation that MariaDB prefers the index's group-by over a scan,
	// as on a database in use.
	for i := range 6000 {
		a := int64(i%20 + 1)
		msgs = append(msgs, Message{ConversationKey: conversationKey(a, a+1), FromUserID: a, ToUserID: a + 1, Content: "m", CreatedAt: int64(i)})
	}
	if err := gdb.CreateInBatches(msgs, 500).Error; err != nil {
		t.Fatal(err)
	}
	dbtest.Analyze(t, gdb, Message{}.TableName())
	st := NewSQLStore(gdb)
	dbtest.RequireIndexed(t, gdb, "chat by conversation", func() error {
		_, err := st.ConversationMessages(ctx, conversationKey(7, 8), 100, 30)
		return err
	})
	dbtest.RequireIndexed(t, gdb, "latest time", func() error {
		_, err := st.LatestTime(ctx, conversationKey(7, 8))
		return err
	})
	dbtest.RequireIndexed(t, gdb, "latest messages", func() error {
		_, err := st.LatestMessages(ctx, []string{conversationKey(7, 8), conversationKey(9, 10)})
		return err
	})
}
