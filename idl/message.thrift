// The message service: chat between users.
namespace go message

include "base.thrift"

struct SendMessageRequest {
    1: i64 from_user_id
    2: i64 to_user_id
    3: string content
}

struct SendMessageResponse {
    1: base.Message message
}

struct ChatRequest {
    1: i64 user_id
    2: i64 peer_id
    // pre_msg_time in Unix milliseconds: only messages created strictly after it; 0 means all.
    3: i64 pre_msg_time
}

struct ChatResponse {
    // messages oldest first.
    1: list<base.Message> messages
}

struct LatestMessage {
    1: string content
    // msg_type is 0 when user_id received it, 1 when user_id sent it.
    2: i64 msg_type
}

struct MGetLatestMessagesRequest {
    1: i64 user_id
    2: list<i64> peer_ids
}

struct MGetLatestMessagesResponse {
    // messages holds the latest message per peer; peers without messages are absent.
    1: map<i64, LatestMessage> messages
}

service MessageService {
    SendMessageResponse SendMessage(1: SendMessageRequest req)
    ChatResponse Chat(1: ChatRequest req)
    MGetLatestMessagesResponse MGetLatestMessages(1: MGetLatestMessagesRequest req)
}
