// The user service: accounts, credentials and profiles.
namespace go user

// UserProfile is what the user service owns; counters come from the services that own them.
struct UserProfile {
    1: i64 id
    2: string name
    3: string avatar
    4: string background_image
    5: string signature
}

struct RegisterRequest {
    1: string username
    2: string password
}

struct RegisterResponse {
    1: i64 user_id
}

struct LoginRequest {
    1: string username
    2: string password
}

struct LoginResponse {
    1: i64 user_id
}

struct MGetUsersRequest {
    1: list<i64> user_ids
}

struct MGetUsersResponse {
    // users holds the profiles that exist; unknown ids are absent.
    1: map<i64, UserProfile> users
}

service UserService {
    RegisterResponse Register(1: RegisterRequest req)
    LoginResponse Login(1: LoginRequest req)
    MGetUsersResponse MGetUsers(1: MGetUsersRequest req)
}
