#include "probe/metrics/text_writer.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

using envprobe::appendHelp;
using envprobe::appendLabelValue;
using envprobe::appendValue;
using envprobe::TextWriter;

namespace {

std::string labelValue(std::string_view v) {
  std::string out;
  appendLabelValue(out, v);
  return out;
}

std::string value(double v) {
  std::string out;
  appendValue(out, v);
  return out;
}

}  // namespace

TEST_CASE("text writer: label values escape backslash, double quote and newline",
          "[text_writer]") {
  CHECK(labelValue("plain value") == "plain value");
  CHECK(labelValue(R"(CN="evil", O=Ex\ample)") == R"(CN=\"evil\", O=Ex\\ample)");
  CHECK(labelValue("nginx\nX-Injected: 1") == R"(nginx\nX-Injected: 1)");
  CHECK(labelValue("a\"} 1\nfake_metric 2") == R"(a\"} 1\nfake_metric 2)");
  CHECK(labelValue("tab\tand\rcr") == "tab\tand\rcr");  // the format escapes only \\, \" and \n
  CHECK(labelValue("") == "");
}

TEST_CASE("text writer: label values become valid UTF-8", "[text_writer]") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(labelValue("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");  // valid stays as it is
  CHECK(labelValue("bad\xFFhere") == "bad" + fffd + "here");
  CHECK(labelValue("\xC3") == fffd);                        // truncated sequence
  CHECK(labelValue("\xC0\xAF") == fffd + fffd);             // overlong
  CHECK(labelValue("\xED\xA0\x80") == fffd + fffd + fffd);  // a surrogate
  CHECK(labelValue("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
  CHECK(labelValue("\xE2\x82\"") == fffd + fffd + "\\\"");
}

TEST_CASE("text writer: HELP text escapes backslash and newline", "[text_writer]") {
  std::string out;
  appendHelp(out, "a \\ b\nc \"quoted\"");
  CHECK(out == "a \\\\ b\\nc \"quoted\"");
}

TEST_CASE("text writer: numbers as Prometheus reads them", "[text_writer]") {
  CHECK(value(0) == "0");
  CHECK(value(-0.0) == "0");
  CHECK(value(1) == "1");
  CHECK(value(-3) == "-3");
  CHECK(value(1700000000) == "1700000000");
  CHECK(value(4294967295.0) == "4294967295");
  CHECK(value(9007199254740992.0) == "9007199254740992");
  CHECK(value(1e17) == "1e+17");
  CHECK(value(0.1) == "0.1");
  CHECK(value(0.30000000000000004) == "0.30000000000000004");  // reads back the same
  CHECK(value(0.000125) == "0.000125");
  CHECK(value(1e-7) == "1e-07");
  CHECK(value(1700000000.5) == "1.7000000005e+09");  // as Go's strconv 'g', -1
  CHECK(value(123456.5) == "123456.5");
  CHECK(value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(value(-std::numeric_limits<double>::infinity()) == "-Inf");
  for (double v : {0.1, 1.0 / 3, 2.5e-9, 123456.789, 6.02214076e23, 1.7976931348623157e308}) {
    CAPTURE(v);
    CHECK(std::stod(value(v)) == v);
  }
}

TEST_CASE("text writer: families and samples", "[text_writer]") {
  std::string body;
  TextWriter out([&](std::string_view b) {
    body.append(b);
    return true;
  });
  out.family("x_total", "Things\ncounted", "counter");
  out.sample("x_total", R"(a="1")", 2);
  out.sample("x_total", R"(a="1")", "reason", "we\"ird", 3);
  out.sample("x_total", "", {{"p", "1"}, {"q", "2"}}, 4);
  out.family("y", "", "gauge");
  out.sample("y", "", 0.5);
  out.flush();
  CHECK(body ==
        "# HELP x_total Things\\ncounted\n# TYPE x_total counter\n"
        "x_total{a=\"1\"} 2\nx_total{a=\"1\",reason=\"we\\\"ird\"} 3\nx_total{p=\"1\",q=\"2\"} 4\n"
        "# TYPE y gauge\ny 0.5\n");
  CHECK(out.bytesWritten() == body.size());
}

TEST_CASE("text writer: the buffer goes to the sink each time it fills", "[text_writer]") {
  std::vector<std::size_t> pieces;
  std::string body;
  TextWriter out(
      [&](std::string_view b) {
        pieces.push_back(b.size());
        body.append(b);
        return true;
      },
      256);
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    out.sample("m", R"(i=")" + std::to_string(i) + "\"", i);
    expected += "m{i=\"" + std::to_string(i) + "\"} " + std::to_string(i) + "\n";
  }
  out.raw(std::string(1000, '#'));
  expected += std::string(1000, '#');
  out.flush();
  CHECK(body == expected);
  REQUIRE(pieces.size() > 5);
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i) {
    CHECK(pieces[i] >= 256);
    CHECK(pieces[i] < 256 + 64);  // one line over the limit at most
  }
}

TEST_CASE("text writer: a sink that refuses stops the writing", "[text_writer]") {
  int calls = 0;
  TextWriter out(
      [&](std::string_view) {
        ++calls;
        return false;
      },
      16);
  for (int i = 0; i < 100 && !out.failed(); ++i) out.sample("m", "", i);
  CHECK(out.failed());
  out.flush();
  CHECK(calls == 1);
}
