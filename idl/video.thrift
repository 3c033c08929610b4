// The video service: published videos, their processing status, the feed and publish lists.
namespace go video

include "base.thrift"

enum VideoStatus {
    Processing = 1
    Ready = 2
    Failed = 3
}

struct VideoRecord {
    1: i64 id
    2: i64 author_id
    // play_url and cover_url are absolute URLs. Until the video is ready (only its author
    // sees it then) play_url is the original upload and cover_url is empty.
    3: string play_url
    4: string cover_url
    5: string title
    // created_at is the publish time in Unix milliseconds.
    6: i64 created_at
    7: VideoStatus status
    // renditions are the encodings with absolute URLs, largest first (empty until ready).
    8: list<base.Rendition> renditions
}

// RenditionFile is one encoding the media worker stored.
struct RenditionFile {
    1: i32 height
    2: i32 width
    // key names the MP4 in blob storage; renditions of a video differ only by a resolution
    // segment, e.g. videos/7/720p/play.mp4 and videos/7/360p/play.mp4.
    3: string key
}

// MaxTitleRunes bounds a video title (at least one character): the gateway refuses a longer
// one before it takes the upload, the service before it stores one.
const i32 MaxTitleRunes = 100

struct CreateVideoRequest {
    1: i64 author_id
    // title: 1 to MaxTitleRunes characters.
    2: string title
    // source_key names the uploaded file in blob storage.
    3: string source_key
}

struct CreateVideoResponse {
    1: i64 video_id
}

struct FeedRequest {
    // latest_time in Unix milliseconds: videos published strictly before it; 0 means now.
    1: i64 latest_time
    2: i32 limit
    // with_work_counts asks for the work counts of the page's authors in the same answer, as
    // MGetWorkCounts would give them to viewer_id (0: anonymous): one call per page.
    3: bool with_work_counts
    4: i64 viewer_id
}

struct FeedResponse {
    1: list<VideoRecord> videos
    // next_time is the publish time of the oldest video returned, 0 when there is none.
    2: i64 next_time
    // work_counts of the page's authors, set only when with_work_counts asked for them (a
    // service older than the flag leaves it unset: the caller then asks MGetWorkCounts).
    3: optional map<i64, i64> work_counts
}

struct FollowingFeedRequest {
    // author_ids are the followed authors (at most 10000).
    1: list<i64> author_ids
    // latest_time in Unix milliseconds: videos published strictly before it; 0 means now.
    2: i64 latest_time
    3: i32 limit
}

struct PublishListRequest {
    1: i64 author_id
    // viewer_id is who reads the list (0: anonymous). The author also sees their processing
    // and failed videos, newest first among the ready ones.
    2: i64 viewer_id
}

struct PublishListResponse {
    1: list<VideoRecord> videos
}

struct MGetVideosRequest {
    1: list<i64> video_ids
    // with_work_counts asks for the work counts of the videos' authors in the same answer, as
    // MGetWorkCounts would give them to viewer_id (0: anonymous): one call for a page of ids.
    2: bool with_work_counts
    3: i64 viewer_id
}

struct MGetVideosResponse {
    // videos holds the ready videos among the ids; others are absent.
    1: map<i64, VideoRecord> videos
    // work_counts of the authors of videos, set only when with_work_counts asked for them (a
    // service older than the flag leaves it unset: the caller then asks MGetWorkCounts).
    2: optional map<i64, i64> work_counts
}

struct MGetWorkCountsRequest {
    1: list<i64> user_ids
    // viewer_id's own count also holds their processing and failed videos, as their own
    // publish list shows them (0: anonymous).
    2: i64 viewer_id
}

struct MGetWorkCountsResponse {
    1: map<i64, i64> work_counts
}

struct CompleteProcessingRequest {
    1: i64 video_id
    2: VideoStatus status
    3: string play_key
    4: string cover_key
    5: string failure_reason
    // renditions of a ready video, largest first; play_key is one of them (the default).
    6: list<RenditionFile> renditions
}

struct CompleteProcessingResponse {}

service VideoService {
    CreateVideoResponse CreateVideo(1: CreateVideoRequest req)
    FeedResponse Feed(1: FeedRequest req)
    // FollowingFeed is Feed restricted to the given authors, in one index-only query.
    FeedResponse FollowingFeed(1: FollowingFeedRequest req)
    PublishListResponse PublishList(1: PublishListRequest req)
    MGetVideosResponse MGetVideos(1: MGetVideosRequest req)
    MGetWorkCountsResponse MGetWorkCounts(1: MGetWorkCountsRequest req)
    // CompleteProcessing is called by the media worker when a video is ready or has failed.
    CompleteProcessingResponse CompleteProcessing(1: CompleteProcessingRequest req)
}
