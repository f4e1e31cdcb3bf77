#pragma once
// A small blocking HTTP client for an agent's control API (`deploy`, `gate`): one request, a
// 10 s timeout, no redirects followed, the answer bounded in size. http:// and https:// only;
// https verifies against the system's CAs or a given CA file.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace envprobe {

struct ApiRequest {
  std::string method = "GET";  // GET | POST
  std::string url;
  std::string bearerToken;  // empty: no Authorization header
  std::string body;         // POST: sent as application/json
  std::string caFile;       // empty: the system's CAs
  long timeoutMs = 10'000;
  std::size_t maxAnswerBytes = 16u << 20;
};

struct ApiResponse {
  bool ok = false;    // a complete HTTP answer arrived (any status)
  std::string error;  // !ok: what went wrong, e.g. "connection refused"
  long status = 0;
  std::string body;
  std::string location;  // a redirect's target (never followed)
};

ApiResponse sendApiRequest(const ApiRequest& request);

// How deploy and gate send requests: the real client, or a fake in tests.
using ApiTransport = std::function<ApiResponse(const ApiRequest&)>;

// The agent's base URL (with or without a trailing slash) joined with `path` and the query,
// its names and values percent-encoded.
using QueryItems = std::vector<std::pair<std::string, std::string>>;
std::string apiUrl(const std::string& agent, const std::string& path, const QueryItems& query = {});

// Text from the answer or a file made fit for a terminal line: valid UTF-8, control characters
// shown as U+FFFD, at most `limit` bytes (then "...").
std::string printable(const std::string& text, std::size_t limit = 300);

// The bearer token in `file`, trimmed. nullopt and why in `error` when the file cannot be read,
// is empty or holds a control character inside the token.
std::optional<std::string> readTokenFile(const std::string& file, std::string& error);

// False and why in `error` when --ca-file names a file that cannot be read (empty: no CA file).
bool checkCaFile(const std::string& file, std::string& error);

// The `data` of an API answer {"status":"success","data":...} whose HTTP status is one of
// `accepted`. nullopt and a sentence in `error` otherwise: the request (method and `shownUrl`)
// and what went wrong: unreachable, an HTTP status with the API's error message, a redirect, no
// JSON or not the API's envelope.
std::optional<nlohmann::json> readApiAnswer(const std::string& method, const std::string& shownUrl,
                                            const ApiResponse& response,
                                            const std::vector<long>& accepted, std::string& error);

// Fields of a hostile answer's object: false and why in `error` (naming `where` and the key)
// when the key is present with another type, or missing while required. A JSON null counts as
// missing.
bool readString(const nlohmann::json& object, const char* key, const std::string& where,
                bool required, std::string& into, std::string& error);
bool readBool(const nlohmann::json& object, const char* key, const std::string& where,
              bool required, bool& into, std::string& error);

}  // namespace envprobe
