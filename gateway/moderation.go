package gateway

import (
	"errors"
	"fmt"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/moderation"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
)

// Moderator checks user text against the moderation word list: it returns the text to store
// (masked or unchanged) or moderation.ErrRefused. *moderation.Filter implements it.
type Moderator interface {
	Check(place moderation.Place, text string) (string, error)
}

// placeNames are how refusals name the field, so the app user knows what to change.
var placeNames = map[moderation.Place]string{
	moderation.CommentText: "comment",
	moderation.MessageText: "message",
	moderation.VideoTitle:  "title",
	moderation.UserName:    "username",
}

// moderate applies the word list before anything is stored. The refusal names the field,
// never the word: the user knows what they typed, logs and other readers must not see it.
func (g *Gateway) moderate(place moderation.Place, text string) (string, error) {
	if g.deps.Moderator == nil {
		return text, nil
	}
	out, err := g.deps.Moderator.Check(place, text)
	if errors.Is(err, moderation.ErrRefused) {
		return "", errs.New(basecode.ErrCode_ContentRefused, fmt.Sprintf("the %s contains a word that is not allowed", placeNames[place]))
	}
	return out, err
}
