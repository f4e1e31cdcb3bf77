#include "probe/engine/verdict_pool.hpp"

#include "checks/assertions.hpp"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <deque>
#include <latch>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace envprobe;

namespace {

// Stands in for the event loop: posted tasks wait here until the test thread runs them, so the
// test thread plays the loop thread.
class FakeLoop {
 public:
  VerdictPool::Post poster() {
    return [this](std::function<void()> task) {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
      ++posted_;
      changed_.notify_all();
    };
  }

  void waitForPosted(std::size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return posted_ >= count; });
  }

  std::size_t posted() {
    std::lock_guard<std::mutex> lock(mutex_);
    return posted_;
  }

  // Runs what is posted so far.
  void runPosted() {
    std::deque<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks.swap(tasks_);
    }
    for (auto& task : tasks) task();
  }

  // Runs posted tasks, waiting for more, until `done` holds.
  void runUntil(const std::function<bool()>& done) {
    while (!done()) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return !tasks_.empty(); });
      }
      runPosted();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> tasks_;
  std::size_t posted_ = 0;
};

Observation withBody(std::string body) {
  Observation o;
  o.statusCode = 200;
  o.body = std::move(body);
  return o;
}

Verdict okVerdict(std::string detail) {
  Verdict v;
  v.ok = true;
  v.detail = std::move(detail);
  return v;
}

// The evaluation echoes the body, so each completion shows which job it belongs to.
Verdict echo(const Observation& o) { return okVerdict(o.body); }

struct Delivered {
  std::vector<std::string> bodies;
  std::vector<Verdict> verdicts;
  VerdictPool::Completion completion() {
    return [this](Observation o, Verdict v) {
      bodies.push_back(std::move(o.body));
      verdicts.push_back(std::move(v));
    };
  }
};

// A job that says when it started and runs until the test lets it finish.
VerdictPool::Evaluate blocking(std::latch& started, std::latch& release) {
  return [&started, &release](const Observation& o) {
    started.count_down();
    release.wait();
    return okVerdict(o.body);
  };
}

}  // namespace

TEST_CASE("verdict pool: results come back through the post function", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster());
  Delivered delivered;
  for (const char* body : {"a", "b", "c"})
    pool.submit(withBody(body), echo, delivered.completion());
  loop.waitForPosted(3);
  CHECK(delivered.bodies.empty());  // nothing runs until the loop runs the posted tasks
  loop.runPosted();
  REQUIRE(delivered.bodies.size() == 3);
  CHECK(std::multiset<std::string>(delivered.bodies.begin(), delivered.bodies.end()) ==
        std::multiset<std::string>{"a", "b", "c"});
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(delivered.verdicts[i].ok);
    CHECK(delivered.verdicts[i].detail == delivered.bodies[i]);
  }
  CHECK(pool.internalErrors() == 0);
  CHECK(pool.rejected() == 0);
}

TEST_CASE("verdict pool: the body is moved, never copied", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster());
  Observation o = withBody(std::string(1 << 20, 'x'));
  const char* buffer = o.body.data();
  const char* seenByJob = nullptr;
  const char* seenByCompletion = nullptr;
  pool.submit(
      std::move(o),
      [&seenByJob](const Observation& observation) {
        seenByJob = observation.body.data();
        return okVerdict("");
      },
      [&seenByCompletion](Observation observation, Verdict) {
        seenByCompletion = observation.body.data();
      });
  loop.runUntil([&] { return seenByCompletion != nullptr; });
  CHECK(seenByJob == buffer);  // written before the post, read after it: ordered by the loop
  CHECK(seenByCompletion == buffer);
}

TEST_CASE("verdict pool: cancel before the job runs", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster(), {.threads = 1, .maxQueued = 8});
  std::latch started(1), release(1);
  Delivered delivered;
  int evaluatedSecond = 0;
  pool.submit(withBody("first"), blocking(started, release), delivered.completion());
  started.wait();  // the only worker is busy, so the next job waits in the queue
  auto second = pool.submit(
      withBody("second"),
      [&evaluatedSecond](const Observation& o) {
        ++evaluatedSecond;
        return okVerdict(o.body);
      },
      delivered.completion());
  CHECK(pool.queued() == 1);
  pool.cancel(second);
  CHECK(pool.queued() == 0);
  release.count_down();
  loop.runUntil([&] { return delivered.bodies.size() == 1; });
  pool.shutdown();
  loop.runPosted();
  CHECK(delivered.bodies == std::vector<std::string>{"first"});
  CHECK(evaluatedSecond == 0);
}

TEST_CASE("verdict pool: cancel while the job runs", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster(), {.threads = 1, .maxQueued = 8});
  std::latch started(1), release(1);
  Delivered delivered;
  auto ticket =
      pool.submit(withBody("cancelled"), blocking(started, release), delivered.completion());
  started.wait();
  pool.cancel(ticket);
  release.count_down();
  // The single worker takes jobs in order: once the next one is delivered, the cancelled one
  // has finished and was dropped.
  pool.submit(withBody("after"), echo, delivered.completion());
  loop.runUntil([&] { return !delivered.bodies.empty(); });
  CHECK(delivered.bodies == std::vector<std::string>{"after"});
}

TEST_CASE("verdict pool: cancel after the result was posted", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster());
  Delivered delivered;
  auto ticket = pool.submit(withBody("late"), echo, delivered.completion());
  loop.waitForPosted(1);
  pool.cancel(ticket);
  loop.runPosted();
  CHECK(delivered.bodies.empty());
  pool.cancel(ticket);                  // twice: ignored
  pool.cancel(VerdictPool::kNoTicket);  // unknown: ignored
}

TEST_CASE("verdict pool: stop drops waiting jobs, shutdown joins", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster(), {.threads = 1, .maxQueued = 8});
  std::latch started(1), release(1);
  Delivered delivered;
  int evaluated = 0;
  auto counting = [&evaluated](const Observation& o) {
    ++evaluated;
    return okVerdict(o.body);
  };
  pool.submit(withBody("running"), blocking(started, release), delivered.completion());
  started.wait();
  pool.submit(withBody("queued 1"), counting, delivered.completion());
  pool.submit(withBody("queued 2"), counting, delivered.completion());
  CHECK(pool.queued() == 2);
  pool.stop();
  CHECK(pool.queued() == 0);
  CHECK(pool.submit(withBody("too late"), counting, delivered.completion()) ==
        VerdictPool::kNoTicket);
  release.count_down();
  pool.shutdown();  // joins: the running job has finished, and its result was dropped
  pool.shutdown();  // idempotent
  loop.runPosted();
  CHECK(loop.posted() == 0);
  CHECK(evaluated == 0);
  CHECK(delivered.bodies.empty());
}

TEST_CASE("verdict pool: a posted task outliving the pool does nothing", "[verdict_pool]") {
  FakeLoop loop;
  Delivered delivered;
  {
    VerdictPool pool(loop.poster());
    pool.submit(withBody("orphan"), echo, delivered.completion());
    loop.waitForPosted(1);
  }  // destructor: shutdown
  loop.runPosted();
  CHECK(delivered.bodies.empty());
}

TEST_CASE("verdict pool: an exception becomes an error verdict", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster());
  Delivered delivered;
  pool.submit(
      withBody("one"), [](const Observation&) -> Verdict { throw std::runtime_error("boom"); },
      delivered.completion());
  loop.runUntil([&] { return delivered.verdicts.size() == 1; });
  pool.submit(
      withBody("two"), [](const Observation&) -> Verdict { throw 42; }, delivered.completion());
  loop.runUntil([&] { return delivered.verdicts.size() == 2; });

  CHECK_FALSE(delivered.verdicts[0].ok);
  CHECK(delivered.verdicts[0].reason == Reason::Error);
  CHECK(delivered.verdicts[0].detail == "internal error: boom");
  CHECK(delivered.bodies[0] == "one");  // the observation still comes back
  CHECK(delivered.verdicts[1].reason == Reason::Error);
  CHECK(delivered.verdicts[1].detail == "internal error: unknown exception");
  CHECK(pool.internalErrors() == 2);
}

TEST_CASE("verdict pool: a full queue rejects with an error verdict", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster(), {.threads = 1, .maxQueued = 2});
  std::latch started(1), release(1);
  Delivered delivered;
  pool.submit(withBody("running"), blocking(started, release), delivered.completion());
  started.wait();
  pool.submit(withBody("queued 1"), echo, delivered.completion());
  pool.submit(withBody("queued 2"), echo, delivered.completion());
  auto rejected = pool.submit(withBody("rejected"), echo, delivered.completion());
  CHECK(rejected != VerdictPool::kNoTicket);
  CHECK(pool.rejected() == 1);
  CHECK(loop.posted() == 1);  // posted at once, the workers are all busy
  loop.runPosted();
  REQUIRE(delivered.verdicts.size() == 1);
  CHECK(delivered.bodies[0] == "rejected");
  CHECK_FALSE(delivered.verdicts[0].ok);
  CHECK(delivered.verdicts[0].reason == Reason::Error);
  CHECK(delivered.verdicts[0].detail == "verdict queue full");

  release.count_down();
  loop.runUntil([&] { return delivered.verdicts.size() == 4; });
  CHECK(delivered.bodies[1] == "running");
  CHECK(delivered.bodies[2] == "queued 1");  // one worker: first in, first out
  CHECK(delivered.bodies[3] == "queued 2");
}

TEST_CASE("verdict pool: many jobs, some cancelled, on several workers", "[verdict_pool]") {
  FakeLoop loop;
  VerdictPool pool(loop.poster(), {.threads = 3, .maxQueued = 1000});
  constexpr int kJobs = 600;
  std::set<std::string> cancelled;
  std::vector<std::string> delivered;
  std::vector<VerdictPool::Ticket> tickets;
  for (int i = 0; i < kJobs; ++i) {
    std::string body = std::to_string(i);
    tickets.push_back(pool.submit(withBody(body), echo, [&delivered](Observation o, Verdict v) {
      CHECK(v.detail == o.body);
      delivered.push_back(o.body);
    }));
    if (i % 3 == 0) {  // some still queued, some running, some already posted
      pool.cancel(tickets[static_cast<std::size_t>(i / 2)]);
      cancelled.insert(std::to_string(i / 2));
    }
  }
  const std::size_t expected = kJobs - cancelled.size();
  loop.runUntil([&] { return delivered.size() == expected; });
  pool.shutdown();
  loop.runPosted();
  REQUIRE(delivered.size() == expected);
  for (const auto& body : delivered) CHECK(cancelled.count(body) == 0);
}

TEST_CASE("verdict pool: one HttpAssertions judged on several workers at once", "[verdict_pool]") {
  HttpExpect expect;
  expect.bodyRegex = {"\"version\":\"1\\.4\\.\\d+\""};
  expect.headers = {{"Content-Type", "application/json.*"}};
  expect.json = {{"build.version", "1.4.2"}, {"items.1", "[2]"}};
  auto assertions = std::make_shared<const HttpAssertions>(expect, "at");
  FakeLoop loop;
  VerdictPool pool(loop.poster(), {.threads = 4, .maxQueued = 1000});
  constexpr int kJobs = 200;
  int passed = 0;
  int failed = 0;
  for (int i = 0; i < kJobs; ++i) {
    Observation o = withBody(i % 2 == 0 ? R"({"build":{"version":"1.4.2"},"items":[[1],[2]]})"
                                        : R"({"build":{"version":"1.4.3"},"items":[]})");
    o.headers = {{"Content-Type", "application/json"}};
    pool.submit(
        std::move(o), [assertions](const Observation& ob) { return assertions->evaluate(ob); },
        [&](Observation, Verdict v) { ++(v.ok ? passed : failed); });
  }
  loop.runUntil([&] { return passed + failed == kJobs; });
  CHECK(passed == kJobs / 2);
  CHECK(failed == kJobs / 2);
}
