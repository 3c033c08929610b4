// The recommend service: ranks ready videos for a viewer from the event stream (likes,
// comments, follows, ready videos), by item-to-item collaborative filtering blended with
// popularity and freshness.
namespace go recommend

struct RecommendRequest {
    // viewer_id is 0 for an anonymous viewer: what is popular now, with no seen-set.
    1: i64 viewer_id
    // limit is the most ids wanted, 1..30; 0 means 30.
    2: i32 limit
    // with_author_ids asks for each video's author too: a caller that has them reads the
    // videos' records and their authors' parts at once instead of one after the other.
    3: bool with_author_ids
}

struct RecommendResponse {
    // video_ids best first; none was returned to this viewer within the seen window unless
    // every candidate was, in which case the seen-set started over.
    1: list<i64> video_ids
    // author_ids[i] is the author of video_ids[i]; set when with_author_ids was asked and the
    // service knows every one (else the caller reads them from the records).
    2: optional list<i64> author_ids
}

// RecommendManyRequest is the pages of several viewers at once (a gateway merging the
// Recommend calls under way): at most 64 requests, each as Recommend takes it; one viewer may
// appear more than once, and then gets consecutive pages.
struct RecommendManyRequest {
    1: list<RecommendRequest> requests
}

struct RecommendManyResponse {
    // pages answer requests, in order.
    1: list<RecommendResponse> pages
}

service RecommendService {
    RecommendResponse Recommend(1: RecommendRequest req)
    // RecommendMany is Recommend for each request, in one call; it fails as a whole when any
    // page would (a bad request, the seen store down).
    RecommendManyResponse RecommendMany(1: RecommendManyRequest req)
}
