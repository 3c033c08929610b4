package message

import (
	"context"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"testing"
)

func TestSQLStore(t *testing.T) { dbtest.Run(t, testSQLStore) }

func testSQLStore(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	store := NewSQLStore(openOn(t, open))
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

func TestConversationKey(t *testing.T) {
	if conversationKey(7, 3) != "3_7" || conversationKey(3, 7) != "3_7" {
		t.Fatal("conversation key depends on direction")
	}
	if k := conversationKey(1<<62, 1<<62+1); len(k) > 41 {
		t.Fatalf("key %q longer than the column", k)
	}
}
