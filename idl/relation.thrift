// The relation service: follows, followers, friends (mutual follows) and their counters.
namespace go relation

enum RelationActionType {
    Follow = 1
    Unfollow = 2
}

struct RelationActionRequest {
    1: i64 user_id
    2: i64 to_user_id
    3: RelationActionType action_type
}

struct RelationActionResponse {}

struct ListRequest {
    1: i64 user_id
}

struct ListResponse {
    // user_ids newest relation first.
    1: list<i64> user_ids
}

struct FolloweeIDsRequest {
    1: i64 user_id
}

struct FolloweeIDsResponse {
    // user_ids holds every id user_id follows (at most 10000, the newest follows), in no order.
    1: list<i64> user_ids
}

struct UserRelationInfo {
    1: i64 follow_count
    2: i64 follower_count
    // is_follow tells whether the viewer follows this user.
    3: bool is_follow
}

struct MGetRelationsRequest {
    // viewer_id is 0 for an anonymous viewer.
    1: i64 viewer_id
    2: list<i64> user_ids
}

struct MGetRelationsResponse {
    1: map<i64, UserRelationInfo> users
}

service RelationService {
    RelationActionResponse RelationAction(1: RelationActionRequest req)
    ListResponse FollowList(1: ListRequest req)
    ListResponse FollowerList(1: ListRequest req)
    ListResponse FriendList(1: ListRequest req)
    // FolloweeIDs is the author set of the following feed: larger than a follow list page.
    FolloweeIDsResponse FolloweeIDs(1: FolloweeIDsRequest req)
    MGetRelationsResponse MGetRelations(1: MGetRelationsRequest req)
}
