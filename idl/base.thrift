// Shared structs of the app's contract and the error codes every service speaks.
namespace go base

// ErrCode is the business error code carried across RPC as a Kitex biz status
// and mapped at the HTTP edge to status_code, status_msg and the HTTP status.
enum ErrCode {
    Success = 0
    InternalError = 10000
    InvalidParam = 10001
    Unauthenticated = 10002
    UserAlreadyExists = 10003
    LoginFailed = 10004
    UserNotFound = 10005
    VideoNotFound = 10006
    CommentNotFound = 10007
    PermissionDenied = 10008
    FollowSelf = 10009
    UnsupportedMedia = 10010
    PayloadTooLarge = 10011
    RateLimited = 10012
    Unavailable = 10013
    // ContentRefused: the text holds a word of the moderation list (under its refuse action).
    ContentRefused = 10014
}

// User is the profile the app shows; counters are maintained, never scanned.
struct User {
    1: i64 id
    2: string name
    3: i64 follow_count
    4: i64 follower_count
    5: bool is_follow
    6: string avatar
    7: string background_image
    8: string signature
    9: i64 total_favorited
    10: i64 work_count
    11: i64 favorite_count
}

// Rendition is one encoding of a video: its frame size and the absolute URL of its MP4.
struct Rendition {
    1: i32 height
    2: i32 width
    3: string url
}

struct Video {
    1: i64 id
    2: User author
    3: string play_url
    4: string cover_url
    5: i64 favorite_count
    6: i64 comment_count
    7: bool is_favorite
    8: string title
    // renditions lists every encoding, largest first; play_url is the default one. An
    // addition to the app's contract (the app ignores it); empty while a video is processing.
    9: list<Rendition> renditions
}

struct Comment {
    1: i64 id
    2: User user
    3: string content
    // create_date is formatted mm-dd.
    4: string create_date
}

struct Message {
    1: i64 id
    2: i64 to_user_id
    3: i64 from_user_id
    4: string content
    // create_time is Unix milliseconds.
    5: i64 create_time
}

// FriendUser is a User flattened with the latest message of the conversation.
struct FriendUser {
    1: i64 id
    2: string name
    3: i64 follow_count
    4: i64 follower_count
    5: bool is_follow
    6: string avatar
    7: string background_image
    8: string signature
    9: i64 total_favorited
    10: i64 work_count
    11: i64 favorite_count
    12: string message
    // msgType is 0 when the requesting user received the latest message, 1 when they sent it.
    13: i64 msgType
}
