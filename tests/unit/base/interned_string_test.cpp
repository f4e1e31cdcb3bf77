#include "probe/base/interned_string.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <thread>
#include <vector>

using envprobe::InternedString;

TEST_CASE("interned string: one value per distinct text, freed with its last holder",
          "[interned_string]") {
  const std::size_t before = InternedString::poolSize();
  {
    InternedString a = std::string("payments-gateway-internal");
    InternedString b = "payments-gateway-internal";
    CHECK(&a.str() == &b.str());  // one copy
    CHECK(a == b);
    CHECK(a == "payments-gateway-internal");
    CHECK(a == std::string("payments-gateway-internal"));
    CHECK(InternedString::poolSize() == before + 1);
    InternedString c = "checkout";
    CHECK(a != c);
    CHECK(c < a);  // ordered by text
    CHECK(c + "/" + a == "checkout/payments-gateway-internal");
    CHECK(std::string("env/") + c == "env/checkout");
    const std::string& ref = c;
    CHECK(ref == "checkout");
    CHECK(InternedString::poolSize() == before + 2);
    b = c;  // a still holds the first
    CHECK(InternedString::poolSize() == before + 2);
    a = InternedString();
    b = InternedString();  // the last holder of the first text
    CHECK(InternedString::poolSize() == before + 1);
    std::map<InternedString, int> byName{{c, 1}};
    CHECK(byName.count("checkout") == 1);
  }
  CHECK(InternedString::poolSize() == before);
  // Empty holds nothing.
  InternedString empty = "";
  CHECK(empty.empty());
  CHECK(empty.str().empty());
  CHECK(empty == InternedString());
  CHECK(InternedString::poolSize() == before);
}

TEST_CASE("interned string: copies and drops from many threads at once", "[interned_string]") {
  const std::size_t before = InternedString::poolSize();
  {
    const InternedString shared = "shared-service-name";
    std::atomic<int> mismatches{0};  // Catch2 asserts on the test's thread only
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&shared, &mismatches, t] {
        for (int i = 0; i < 20000; ++i) {
          InternedString copy = shared;                                 // no lock
          InternedString again = "shared-service-name";                 // found in the pool
          InternedString own = "thread-" + std::to_string(t * 7 + i % 3);  // made and freed
          if (!(copy == again) || own.empty()) ++mismatches;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(mismatches == 0);
    CHECK(InternedString::poolSize() == before + 1);
  }
  CHECK(InternedString::poolSize() == before);
}
