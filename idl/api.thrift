// The HTTP surface of the app (/douyin/), served by the Hertz gateway.
// Parameters are read from the query, then an urlencoded or multipart form, then a JSON body.
namespace go api

include "base.thrift"

// The action_type values of the comment and message actions. Those of the favorite and
// relation actions are their services' FavoriteActionType and RelationActionType.
enum CommentActionType {
    Post = 1
    Delete = 2
}

enum MessageActionType {
    Send = 1
}

struct FeedRequest {
    // latest_time: only videos published strictly before it; milliseconds, or seconds when below 1e11.
    1: optional i64 latest_time (api.query="latest_time", api.form="latest_time")
    2: optional string token (api.query="token", api.form="token")
}

struct FeedResponse {
    1: i32 status_code
    2: string status_msg
    3: list<base.Video> video_list
    // next_time is the publish time in ms of the oldest video returned; 0 restarts from the newest.
    4: i64 next_time
}

struct UserRegisterRequest {
    1: string username (api.query="username", api.form="username")
    2: string password (api.query="password", api.form="password")
}

struct UserRegisterResponse {
    1: i32 status_code
    2: string status_msg
    3: i64 user_id
    4: string token
}

struct UserLoginRequest {
    1: string username (api.query="username", api.form="username")
    2: string password (api.query="password", api.form="password")
}

struct UserLoginResponse {
    1: i32 status_code
    2: string status_msg
    3: i64 user_id
    4: string token
}

// Logout revokes the token it carries (an addition to the app's contract: the fixed app never
// calls it; web clients and operators do).
struct UserLogoutRequest {
    1: optional string token (api.query="token", api.form="token")
}

struct UserLogoutResponse {
    1: i32 status_code
    2: string status_msg
}

struct UserRequest {
    // user_id absent or 0 means the token's owner.
    1: optional i64 user_id (api.query="user_id", api.form="user_id")
    2: optional string token (api.query="token", api.form="token")
}

struct UserResponse {
    1: i32 status_code
    2: string status_msg
    3: base.User user
}

// PublishActionRequest is multipart/form-data; the video file travels in the form field "data".
struct PublishActionRequest {
    1: string token (api.form="token", api.query="token")
    2: string title (api.form="title", api.query="title")
}

struct PublishActionResponse {
    1: i32 status_code
    2: string status_msg
}

struct PublishListRequest {
    1: i64 user_id (api.query="user_id", api.form="user_id")
    2: optional string token (api.query="token", api.form="token")
}

struct PublishListResponse {
    1: i32 status_code
    2: string status_msg
    3: list<base.Video> video_list
}

struct FavoriteActionRequest {
    1: string token (api.query="token", api.form="token")
    2: i64 video_id (api.query="video_id", api.form="video_id")
    // action_type: a favorite.FavoriteActionType (1 like, 2 unlike).
    3: i32 action_type (api.query="action_type", api.form="action_type")
}

struct FavoriteActionResponse {
    1: i32 status_code
    2: string status_msg
}

struct FavoriteListRequest {
    1: i64 user_id (api.query="user_id", api.form="user_id")
    2: optional string token (api.query="token", api.form="token")
}

struct FavoriteListResponse {
    1: i32 status_code
    2: string status_msg
    3: list<base.Video> video_list
}

struct CommentActionRequest {
    1: string token (api.query="token", api.form="token")
    2: i64 video_id (api.query="video_id", api.form="video_id")
    // action_type: a CommentActionType, 1 post (comment_text) or 2 delete (comment_id).
    3: i32 action_type (api.query="action_type", api.form="action_type")
    4: optional string comment_text (api.query="comment_text", api.form="comment_text")
    5: optional i64 comment_id (api.query="comment_id", api.form="comment_id")
}

struct CommentActionResponse {
    1: i32 status_code
    2: string status_msg
    // comment is the posted comment; null after a delete.
    3: optional base.Comment comment
}

struct CommentListRequest {
    1: i64 video_id (api.query="video_id", api.form="video_id")
    2: optional string token (api.query="token", api.form="token")
}

struct CommentListResponse {
    1: i32 status_code
    2: string status_msg
    3: list<base.Comment> comment_list
}

struct RelationActionRequest {
    1: string token (api.query="token", api.form="token")
    2: i64 to_user_id (api.query="to_user_id", api.form="to_user_id")
    // action_type: a relation.RelationActionType (1 follow, 2 unfollow).
    3: i32 action_type (api.query="action_type", api.form="action_type")
}

struct RelationActionResponse {
    1: i32 status_code
    2: string status_msg
}

struct RelationListRequest {
    1: i64 user_id (api.query="user_id", api.form="user_id")
    2: optional string token (api.query="token", api.form="token")
}

struct RelationListResponse {
    1: i32 status_code
    2: string status_msg
    3: list<base.User> user_list
}

struct FriendListRequest {
    // user_id absent or 0 means the token's owner.
    1: optional i64 user_id (api.query="user_id", api.form="user_id")
    2: string token (api.query="token", api.form="token")
}

struct FriendListResponse {
    1: i32 status_code
    2: string status_msg
    3: list<base.FriendUser> user_list
}

struct MessageActionRequest {
    1: string token (api.query="token", api.form="token")
    2: i64 to_user_id (api.query="to_user_id", api.form="to_user_id")
    // action_type: a MessageActionType (1 send).
    3: i32 action_type (api.query="action_type", api.form="action_type")
    4: string content (api.query="content", api.form="content")
}

struct MessageActionResponse {
    1: i32 status_code
    2: string status_msg
}

struct MessageChatRequest {
    1: string token (api.query="token", api.form="token")
    2: i64 to_user_id (api.query="to_user_id", api.form="to_user_id")
    // pre_msg_time in ms: only messages created strictly after it; absent or 0 means the whole conversation.
    3: optional i64 pre_msg_time (api.query="pre_msg_time", api.form="pre_msg_time")
}

struct MessageChatResponse {
    1: i32 status_code
    2: string status_msg
    3: list<base.Message> message_list
}

service DouyinAPI {
    FeedResponse Feed(1: FeedRequest req) (api.get="/douyin/feed/")
    // FollowingFeed is the feed of the authors the viewer follows: token required, same paging.
    FeedResponse FollowingFeed(1: FeedRequest req) (api.get="/douyin/feed/following/")
    // RecommendFeed ranks videos for the viewer (token optional): repeated calls continue.
    FeedResponse RecommendFeed(1: FeedRequest req) (api.get="/douyin/feed/recommend/")
    UserRegisterResponse UserRegister(1: UserRegisterRequest req) (api.post="/douyin/user/register/")
    UserLoginResponse UserLogin(1: UserLoginRequest req) (api.post="/douyin/user/login/")
    UserLogoutResponse UserLogout(1: UserLogoutRequest req) (api.post="/douyin/user/logout/")
    UserResponse User(1: UserRequest req) (api.get="/douyin/user/")
    PublishActionResponse PublishAction(1: PublishActionRequest req) (api.post="/douyin/publish/action/")
    PublishListResponse PublishList(1: PublishListRequest req) (api.get="/douyin/publish/list/")
    FavoriteActionResponse FavoriteAction(1: FavoriteActionRequest req) (api.post="/douyin/favorite/action/")
    FavoriteListResponse FavoriteList(1: FavoriteListRequest req) (api.get="/douyin/favorite/list/")
    CommentActionResponse CommentAction(1: CommentActionRequest req) (api.post="/douyin/comment/action/")
    CommentListResponse CommentList(1: CommentListRequest req) (api.get="/douyin/comment/list/")
    RelationActionResponse RelationAction(1: RelationActionRequest req) (api.post="/douyin/relation/action/")
    RelationListResponse RelationFollowList(1: RelationListRequest req) (api.get="/douyin/relation/follow/list/")
    RelationListResponse RelationFollowerList(1: RelationListRequest req) (api.get="/douyin/relation/follower/list/")
    FriendListResponse RelationFriendList(1: FriendListRequest req) (api.get="/douyin/relation/friend/list/")
    MessageActionResponse MessageAction(1: MessageActionRequest req) (api.post="/douyin/message/action/")
    MessageChatResponse MessageChat(1: MessageChatRequest req) (api.get="/douyin/message/chat/")
}
