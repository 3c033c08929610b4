// The recommend service: ranks ready videos for a viewer from the event stream (likes,
// comments, follows, ready videos), by item-to-item collaborative filtering blended with
// popularity and freshness.
namespace go recommend

struct RecommendRequest {
    // viewer_id is 0 for an anonymous viewer: what is popular now, with no seen-set.
    1: i64 viewer_id
    // limit is the most ids wanted, 1..30; 0 means 30.
    2: i32 limit
}

struct RecommendResponse {
    // video_ids best first; none was returned to this viewer within the seen window unless
    // every candidate was, in which case the seen-set started over.
    1: list<i64> video_ids
}

service RecommendService {
    RecommendResponse Recommend(1: RecommendRequest req)
}
