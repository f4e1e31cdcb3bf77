#include "probe/cmd/api_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "probe/base/text.hpp"
#include "probe/base/utf8.hpp"

namespace envprobe {

namespace {

struct Sink {
  std::string body;
  std::size_t limit = 0;
  bool tooLarge = false;
};

std::size_t onData(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->body.size() + n > sink->limit) {
    sink->tooLarge = true;
    return 0;  // stops the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(data, n);
  return n;
}

// Deeper nesting than any API answer has; refused before parsing so that no answer can make
// the parser or the value's destructor recurse without bound.
constexpr int kMaxJsonDepth = 64;

bool nestedTooDeep(const std::string& body) {
  int depth = 0;
  bool inString = false, escaped = false;
  for (char c : body) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}


// The API's error message in an answer, if it is the error envelope.
std::string apiErrorMessage(const nlohmann::json& answer) {
  if (!answer.is_object()) return "";
  std::string message;
  if (auto it = answer.find("error"); it != answer.end() && it->is_string())
    message = printable(it->get<std::string>());
  if (auto it = answer.find("errorType"); it != answer.end() && it->is_string()) {
    const std::string type = printable(it->get<std::string>(), 60);
    message = message.empty() ? type : message + " (" + type + ")";
  }
  return message;
}

}  // namespace

std::string apiUrl(const std::string& agent, const std::string& path, const QueryItems& query) {
  std::string url = agent;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  char sep = '?';
  for (const auto& [name, value] : query) {
    url += sep + urlEncode(name) + "=" + urlEncode(value);
    sep = '&';
  }
  return url;
}

std::string printable(const std::string& text, std::size_t limit) {
  std::string cut = text.size() > limit ? text.substr(0, limit) : text;
  std::string out;
  for (unsigned char c : makeValidUtf8(cut)) {
    if (c < 0x20 || c == 0x7f)
      out += "\xEF\xBF\xBD";
    else
      out += static_cast<char>(c);
  }
  return text.size() > limit ? out + "..." : out;
}

std::optional<std::string> readTokenFile(const std::string& file, std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot read the token file " + file + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string text(64 * 1024 + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    error = "cannot read the token file " + file;
    return std::nullopt;
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > 64 * 1024) {
    error = "the token file " + file + " is larger than 64 KiB; it should hold one token";
    return std::nullopt;
  }
  const std::string token(trimSpace(text));
  if (token.empty()) {
    error = "the token file " + file + " is empty";
    return std::nullopt;
  }
  const bool control = std::any_of(token.begin(), token.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (control) {
    error = "the token file " + file +
            " holds a control character (a line break?) inside the token; it should hold one token";
    return std::nullopt;
  }
  return token;
}

bool checkCaFile(const std::string& file, std::string& error) {
  if (file.empty()) return true;
  std::ifstream in(file, std::ios::binary);
  if (in && in.peek() != std::ifstream::traits_type::eof()) return true;
  error = "cannot read the CA file " + file + ": " +
          (in ? std::string("it is empty") : std::string(std::strerror(errno)));
  return false;
}

std::optional<nlohmann::json> readApiAnswer(const std::string& method, const std::string& shownUrl,
                                            const ApiResponse& response,
                                            const std::vector<long>& accepted, std::string& error) {
  const std::string request = method + " " + shownUrl + ": ";
  if (!response.ok) {
    error = request + printable(response.error);
    return std::nullopt;
  }
  nlohmann::json answer;
  const bool deep = nestedTooDeep(response.body);
  if (!deep) answer = nlohmann::json::parse(response.body, nullptr, false);
  const bool isJson = !deep && !answer.is_discarded();
  const std::string status = "HTTP " + std::to_string(response.status);
  if (std::find(accepted.begin(), accepted.end(), response.status) == accepted.end()) {
    if (response.status >= 300 && response.status < 400) {
      error = request + status + ", a redirect" +
              (response.location.empty() ? "" : " to " + printable(response.location)) +
              " (redirects are not followed: give --agent the agent's own URL)";
      return std::nullopt;
    }
    const std::string message = isJson ? apiErrorMessage(answer) : "";
    error = request + status + ": " +
            (message.empty() ? "an answer that is not the API's error JSON" : message);
    return std::nullopt;
  }
  if (deep) {
    error = request + status + " with JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
            " levels; not an answer of the envprobe API";
    return std::nullopt;
  }
  if (!isJson) {
    error = request + status + " with an answer that is not JSON";
    return std::nullopt;
  }
  if (!answer.is_object() || !answer.contains("status") || !answer["status"].is_string()) {
    error = request + status + " with JSON that is not the API's envelope (no \"status\")";
    return std::nullopt;
  }
  if (answer["status"] != "success") {
    const std::string message = apiErrorMessage(answer);
    error = request + status + " but status \"" +
            printable(answer["status"].get<std::string>(), 40) + "\"" +
            (message.empty() ? "" : ": " + message);
    return std::nullopt;
  }
  if (!answer.contains("data")) {
    error = request + status + " with JSON that has no \"data\"";
    return std::nullopt;
  }
  return std::move(answer["data"]);
}

namespace {

const nlohmann::json* field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

bool readString(const nlohmann::json& object, const char* key, const std::string& where,
                bool required, std::string& into, std::string& error) {
  const auto* value = field(object, key);
  if (value && value->is_string()) {
    into = value->get<std::string>();
    return true;
  }
  if (!value && !required) return true;
  error = where + ": \"" + key + "\" " + (value ? "is not a string" : "is missing");
  return false;
}

bool readBool(const nlohmann::json& object, const char* key, const std::string& where,
              bool required, bool& into, std::string& error) {
  const auto* value = field(object, key);
  if (value && value->is_boolean()) {
    into = value->get<bool>();
    return true;
  }
  if (!value && !required) return true;
  error = where + ": \"" + key + "\" " + (value ? "is not true or false" : "is missing");
  return false;
}

ApiResponse sendApiRequest(const ApiRequest& request) {
  static const CURLcode initialized = curl_global_init(CURL_GLOBAL_DEFAULT);
  ApiResponse response;
  if (initialized != CURLE_OK) {
    response.error = "cannot initialise libcurl";
    return response;
  }
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    response.error = "cannot initialise libcurl";
    return response;
  }
  CURL* h = curl.get();
  char errorText[CURL_ERROR_SIZE] = {};
  Sink sink;
  sink.limit = request.maxAnswerBytes;
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request.timeoutMs);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, request.timeoutMs);
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.maxAnswerBytes));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errorText);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &onData);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "envprobe/" ENVPROBE_VERSION);
  if (!request.caFile.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, request.caFile.c_str());

  curl_slist* rawHeaders = nullptr;
  rawHeaders = curl_slist_append(rawHeaders, "Accept: application/json");
  std::string authorization;
  if (!request.bearerToken.empty()) {
    authorization = "Authorization: Bearer " + request.bearerToken;
    rawHeaders = curl_slist_append(rawHeaders, authorization.c_str());
  }
  if (request.method == "POST") {
    rawHeaders = curl_slist_append(rawHeaders, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(rawHeaders,
                                                                      &curl_slist_free_all);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  const CURLcode rc = curl_easy_perform(h);
  if (sink.tooLarge || rc == CURLE_FILESIZE_EXCEEDED) {
    response.error = "the answer is larger than " +
                     std::to_string(request.maxAnswerBytes >> 20) + " MiB; refused";
    return response;
  }
  if (rc != CURLE_OK) {
    const std::string what = errorText[0] ? errorText : curl_easy_strerror(rc);
    if (rc == CURLE_PEER_FAILED_VERIFICATION)
      response.error = "cannot verify the agent's certificate: " + what +
                       " (signed by a private CA? give it with --ca-file)";
    else if (rc == CURLE_OPERATION_TIMEDOUT)
      response.error =
          "no answer within " + std::to_string(request.timeoutMs / 1000) + "s: " + what;
    else
      response.error = "agent unreachable: " + what;
    return response;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  char* location = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
    response.location = location;
  response.body = std::move(sink.body);
  response.ok = true;
  return response;
}

}  // namespace envprobe
