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

struct MGetVideoFavoritesRequest {
    // viewer_id is 0 for an anonymous viewer.
    1: i64 viewer_id
    2: list<i64> video_ids
}

struct MGetVideoFavoritesResponse {
    1: map<i64, VideoFavoriteInfo> videos
}

struct UserFavoriteStats {
    // favorite_count is how many videos the user liked.
    1: i64 favorite_count
    // total_favorited is how many likes the user's own videos received.
    2: i64 total_favorited
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
