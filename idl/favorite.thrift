// The favorite service: likes, their counters, and the liked-videos list.
namespace go favorite

enum FavoriteActionType {
    Like = 1
    Unlike = 2
}

struct FavoriteActionRequest {
    1: i64 user_id
    2: i64 video_id
    3: FavoriteActionType action_type
}

struct FavoriteActionResponse {}

struct FavoriteListRequest {
    1: i64 user_id
}

struct FavoriteListResponse {
    // video_ids newest like first.
    1: list<i64> video_ids
}

struct VideoFavoriteInfo {
    1: i64 favorite_count
    2: bool is_favorite
}

struct UserFavoriteStats {
    // favorite_count is how many videos the user liked.
    1: i64 favorite_count
    // total_favorited is how many likes the user's own videos received.
    2: i64 total_favorited
}

struct MGetVideoFavoritesRequest {
    // viewer_id is 0 for an anonymous viewer.
    1: i64 viewer_id
    2: list<i64> video_ids
    // user_ids (optional) asks for these users' stats in the same answer, as
    // MGetUserFavoriteStats would give them: a page's videos and authors in one call.
    3: list<i64> user_ids
}

struct MGetVideoFavoritesResponse {
    1: map<i64, VideoFavoriteInfo> videos
    // users holds the stats of user_ids, set only when they were asked for (a service older
    // than user_ids leaves it unset: the caller then asks MGetUserFavoriteStats).
    2: optional map<i64, UserFavoriteStats> users
}

struct MGetUserFavoriteStatsRequest {
    1: list<i64> user_ids
}

struct MGetUserFavoriteStatsResponse {
    1: map<i64, UserFavoriteStats> users
}

service FavoriteService {
    FavoriteActionResponse FavoriteAction(1: FavoriteActionRequest req)
    FavoriteListResponse FavoriteList(1: FavoriteListRequest req)
    MGetVideoFavoritesResponse MGetVideoFavorites(1: MGetVideoFavoritesRequest req)
    MGetUserFavoriteStatsResponse MGetUserFavoriteStats(1: MGetUserFavoriteStatsRequest req)
}
