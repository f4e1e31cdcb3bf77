// The history store's writer-thread work: committing a batch of writes in one transaction, and
// applying the retention.
#include "probe/base/logging.hpp"
#include "probe/history/history_sql.hpp"
#include "probe/history/history_store.hpp"

namespace envprobe {

namespace {

using history_sql::Statement;

// The batch's statements, prepared once per batch.
struct Writers {
  explicit Writers(sqlite3* db)
      : transition(db,
                   "INSERT INTO transitions (series, time_ms, up, reason, detail) "
                   "VALUES (?, ?, ?, ?, ?)"),
        series(db, "INSERT OR IGNORE INTO series (series, first_unix_ms) VALUES (?, ?)"),
        fact(db,
             "INSERT INTO facts (series, what, value, unix_ms) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (series, what) DO UPDATE SET value = excluded.value, "
             "unix_ms = excluded.unix_ms"),
        change(db,
               "INSERT INTO changes (unix_ms, series, target_id, env, service, hostname, "
               "visibility, check_name, address, what, old_value, new_value) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        announcement(db,
                     "INSERT INTO announcements (service, version, announced_unix_ms, "
                     "converge_within_ms) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (service) DO UPDATE SET version = excluded.version, "
                     "announced_unix_ms = excluded.announced_unix_ms, "
                     "converge_within_ms = excluded.converge_within_ms") {}

  bool ok() const { return transition && series && fact && change && announcement; }

  Statement transition, series, fact, change, announcement;
};

}  // namespace

bool HistoryStore::commit(const std::deque<Write>& batch) {
  auto fail = [&](const char* what) {
    logError(
        "history: cannot write history rows; they are lost",
        {{"file", file_}, {"step", what}, {"err", sqlite3_errmsg(db_)}, {"rows", batch.size()}});
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    dropped_ += batch.size();
    return false;
  };
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("begin");
  bool ok = true;
  {
    Writers w(db_);  // finalized before COMMIT or ROLLBACK
    if (!w.ok()) return fail("prepare");
    for (const auto& write : batch) {
      if (const auto* t = std::get_if<HistoryTransition>(&write)) {
        w.transition.bind(1, t->series);
        w.transition.bind(2, t->unixMs);
        w.transition.bind(3, std::int64_t{t->up ? 1 : 0});
        w.transition.bind(4, t->reason);
        w.transition.bind(5, t->detail);
        w.series.bind(1, t->series);
        w.series.bind(2, t->unixMs);
        ok = w.transition.run() && w.series.run();
      } else if (const auto* f = std::get_if<Fact>(&write)) {
        w.fact.bind(1, f->series);
        w.fact.bind(2, f->what);
        w.fact.bind(3, f->value);
        w.fact.bind(4, f->unixMs);
        ok = w.fact.run();
      } else if (const auto* c = std::get_if<FactChange>(&write)) {
        w.change.bind(1, c->unixMs);
        int i = 2;
        for (const std::string* text :
             {&c->series, &c->targetId, &c->env, &c->service, &c->hostname, &c->visibility,
              &c->check, &c->address, &c->what, &c->oldValue, &c->newValue})
          w.change.bind(i++, *text);
        ok = w.change.run();
      } else if (const auto* a = std::get_if<Announcement>(&write)) {
        w.announcement.bind(1, a->service);
        w.announcement.bind(2, a->version);
        w.announcement.bind(3, a->announcedUnixMs);
        w.announcement.bind(4, a->convergeWithinMs);
        ok = w.announcement.run();
      }
      if (!ok) break;
    }
  }
  if (!ok) return fail("insert");
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  return true;
}

// Transitions older than the retention go, but each series keeps its latest (a target down for
// longer still knows since when); so do changes. Facts, announcements and first-seen times stay.
void HistoryStore::prune() {
  const std::int64_t cutoff = options_.nowMs() - options_.retention.count();
  auto fail = [&](const char* step) {
    logError("history: cannot apply the retention",
             {{"file", file_}, {"step", step}, {"err", sqlite3_errmsg(db_)}});
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  };
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("begin");
  int transitions = 0, changes = 0;
  {
    Statement deleteTransitions(db_,
                                "DELETE FROM transitions WHERE time_ms < ? AND id NOT IN "
                                "(SELECT MAX(id) FROM transitions GROUP BY series)");
    Statement deleteChanges(db_, "DELETE FROM changes WHERE unix_ms < ?");
    if (!deleteTransitions || !deleteChanges) return fail("prepare");
    deleteTransitions.bind(1, cutoff);
    if (!deleteTransitions.run()) return fail("transitions");
    transitions = sqlite3_changes(db_);
    deleteChanges.bind(1, cutoff);
    if (!deleteChanges.run()) return fail("changes");
    changes = sqlite3_changes(db_);
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  if (transitions > 0 || changes > 0)
    logInfo("history: deleted rows past the retention",
            {{"file", file_}, {"transitions", transitions}, {"changes", changes}});
}

}  // namespace envprobe
