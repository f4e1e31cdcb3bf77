#include "probe/web/basic_auth.hpp"

#include <catch2/catch.hpp>

#include "probe/web/http_server.hpp"

using envprobe::BasicAuth;
using envprobe::parseBasicAuthorization;

namespace {

// bcrypt of "s3cret" at cost 4 (cheap, for tests).
const std::string kHash = "$2b$04$T7.ox6bJECJvUrmtHJZGROiFcC/WuuldgN3RkgAFHzxd.8Sj7QZ3G";
// "Basic " + base64 of "prometheus:s3cret", "prometheus:wrong", "nobody:s3cret".
const char* kRight = "Basic cHJvbWV0aGV1czpzM2NyZXQ=";
const char* kWrong = "Basic cHJvbWV0aGV1czp3cm9uZw==";
const char* kUnknownUser = "Basic bm9ib2R5OnMzY3JldA==";

}  // namespace

TEST_CASE("basic auth: Authorization header parsing", "[web]") {
  const auto c = parseBasicAuthorization(kRight);
  REQUIRE(c);
  CHECK(c->user == "prometheus");
  CHECK(c->password == "s3cret");
  CHECK(parseBasicAuthorization("basic  cHJvbWV0aGV1czpzM2NyZXQ= ")->password == "s3cret");
  CHECK(parseBasicAuthorization("Basic OmE=")->user.empty());  // ":a"
  CHECK(parseBasicAuthorization("Basic YTo=")->password.empty());  // "a:"
  CHECK_FALSE(parseBasicAuthorization(""));
  CHECK_FALSE(parseBasicAuthorization("Basic"));
  CHECK_FALSE(parseBasicAuthorization("Bearer cHJvbWV0aGV1czpzM2NyZXQ="));
  CHECK_FALSE(parseBasicAuthorization("Basic bm9jb2xvbg=="));  // "nocolon"
  CHECK_FALSE(parseBasicAuthorization("Basic cHJvbWV0aGV1czpzM2NyZXQ"));  // not padded
  CHECK_FALSE(parseBasicAuthorization("Basic cHJv=WV0"));
  CHECK_FALSE(parseBasicAuthorization("Basic !!!!"));
}

TEST_CASE("basic auth: bcrypt verification for every accepted prefix", "[web]") {
  CHECK(envprobe::bcryptMatches("s3cret", kHash));
  CHECK(envprobe::bcryptMatches("s3cret", "$2a$" + kHash.substr(4)));
  CHECK(envprobe::bcryptMatches("s3cret", "$2y$" + kHash.substr(4)));
  CHECK_FALSE(envprobe::bcryptMatches("s3cret!", kHash));
  CHECK_FALSE(envprobe::bcryptMatches("", kHash));
  CHECK_FALSE(envprobe::bcryptMatches("s3cret", "not a hash"));
}

TEST_CASE("basic auth: who is let in", "[web]") {
  BasicAuth auth({{"prometheus", kHash}});
  CHECK(auth.enabled());
  CHECK(auth.allows(kRight));
  CHECK_FALSE(auth.allows(kWrong));
  CHECK_FALSE(auth.allows(kUnknownUser));
  CHECK_FALSE(auth.allows(nullptr));
  CHECK_FALSE(auth.allows("Basic"));
  BasicAuth open({});
  CHECK_FALSE(open.enabled());
  CHECK(open.allows(nullptr));
}

TEST_CASE("basic auth: a success is remembered for a while, a failure never", "[web]") {
  auto now = std::chrono::steady_clock::time_point{};
  BasicAuth auth({{"prometheus", kHash}}, [&now] { return now; });
  CHECK(auth.allows(kRight));
  CHECK(auth.bcryptRuns() == 1);
  CHECK(auth.allows(kRight));
  CHECK(auth.bcryptRuns() == 1);  // cached
  CHECK_FALSE(auth.allows(kWrong));
  CHECK_FALSE(auth.allows(kWrong));
  CHECK(auth.bcryptRuns() == 3);  // failures are checked every time
  now += BasicAuth::kCacheTtl;
  CHECK(auth.allows(kRight));
  CHECK(auth.bcryptRuns() == 4);  // expired
}

TEST_CASE("http server: which listen addresses bind every interface", "[web]") {
  CHECK(envprobe::listensOnAllInterfaces(":9470"));
  CHECK(envprobe::listensOnAllInterfaces("0.0.0.0:9470"));
  CHECK(envprobe::listensOnAllInterfaces("[::]:9470"));
  CHECK_FALSE(envprobe::listensOnAllInterfaces("127.0.0.1:9470"));
  CHECK_FALSE(envprobe::listensOnAllInterfaces("envprobe.local:9470"));
  CHECK(envprobe::civetListeningPorts(":9470") == "9470");
}
