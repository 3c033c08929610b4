// The events services exchange through the queue: producers and consumers share these types.
// The wire format is JSON with the field names below (the format of the hand-written Go
// structs these replace, so messages already queued are still consumed); a field is only
// ever added, never renamed or renumbered.
namespace go event

// PublishEvent (topic douyin-publish, keyed by video id) asks the media worker to process an
// upload.
struct PublishEvent {
    1: i64 video_id
    // source_key names the uploaded file in blob storage.
    2: string source_key
}

// LikeEvent (topic douyin-favorite, keyed by user and video) is one like or unlike; the
// favorite service writes it to SQL, the recommender learns from it.
struct LikeEvent {
    1: i64 user_id
    2: i64 video_id
    3: i64 author_id
    4: bool liked
    // seq orders the events of one (user, video) pair: a consumer ignores an event whose seq is
    // not greater than the last one it applied, so redelivery and reordering are harmless.
    5: i64 seq
    // at is when the user acted, in Unix milliseconds; the liked list is ordered by it.
    6: i64 at
}

// The kinds of ActivityEvent (strings on the wire).
const string ActivityVideoReady = "video_ready"
const string ActivityCommentAdded = "comment_added"
const string ActivityCommentDeleted = "comment_deleted"
const string ActivityFollowed = "followed"
const string ActivityUnfollowed = "unfollowed"

// ActivityEvent (topic douyin-activity, keyed by the video or, for follows, the follower) is
// what the recommender learns from besides likes. Which ids are set depends on the kind: a
// ready video has video_id and author_id; a comment user_id, video_id and comment_id; a
// follow user_id (the follower) and author_id (the followee).
struct ActivityEvent {
    // kind is one of the Activity* constants.
    1: string kind
    2: i64 user_id
    3: i64 video_id
    4: i64 author_id
    5: i64 comment_id
    // at is when it happened, in Unix milliseconds: it orders a follow and an unfollow of the
    // same pair, and dates a comment for the popularity decay (for a deleted comment: when it
    // was posted, so its exact weight is taken back); a ready video's publish time.
    6: i64 at
}
