// The comment service: comments on videos and their counters.
namespace go comment

struct CommentRecord {
    1: i64 id
    2: i64 video_id
    3: i64 user_id
    4: string content
    // created_at in Unix milliseconds.
    5: i64 created_at
}

struct PostCommentRequest {
    1: i64 user_id
    2: i64 video_id
    3: string content
}

struct PostCommentResponse {
    1: CommentRecord comment
}

struct DeleteCommentRequest {
    1: i64 user_id
    2: i64 video_id
    3: i64 comment_id
}

struct DeleteCommentResponse {}

struct ListCommentsRequest {
    1: i64 video_id
}

struct ListCommentsResponse {
    // comments newest first.
    1: list<CommentRecord> comments
}

struct MGetCommentCountsRequest {
    1: list<i64> video_ids
}

struct MGetCommentCountsResponse {
    1: map<i64, i64> comment_counts
}

service CommentService {
    PostCommentResponse PostComment(1: PostCommentRequest req)
    DeleteCommentResponse DeleteComment(1: DeleteCommentRequest req)
    ListCommentsResponse ListComments(1: ListCommentsRequest req)
    MGetCommentCountsResponse MGetCommentCounts(1: MGetCommentCountsRequest req)
}
