#pragma once
// Internal to the history store: small SQLite helpers shared by its source files.
#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace envprobe::history_sql {

// An SQLite failure: the message and whether it means the file is not (or no longer) a usable
// database, which moving it aside cures (to <file>.<asideTag>-<unix time>).
struct DbError {
  std::string message;
  bool moveAside = false;
  std::string asideTag = "corrupt";
};

DbError errorOf(sqlite3* db, const std::string& what);

// Runs `sql` (one statement); each row's first column goes to `onRow` (when given).
std::optional<DbError> exec(sqlite3* db, const std::string& sql,
                            const std::function<void(const std::string&)>& onRow = {});

// Sets WAL mode, checks the file and creates, migrates or refuses its schema.
std::optional<DbError> initDatabase(sqlite3* db);

// `text` cut to at most `max` bytes, on a UTF-8 character boundary.
std::string cutText(std::string text, std::size_t max);

// A prepared statement, finalized on destruction.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt_);
      stmt_ = nullptr;
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  explicit operator bool() const { return stmt_ != nullptr; }

  void bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void bindSize(int index, std::size_t value) {
    const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    bind(index, static_cast<std::int64_t>(value > max ? max : value));
  }
  // Steps once: SQLITE_ROW, SQLITE_DONE or an error.
  int step() { return sqlite3_step(stmt_); }
  // Runs a statement that returns no rows and readies it for the next bindings.
  bool run() {
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    return rc == SQLITE_DONE;
  }

  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return std::string(p ? reinterpret_cast<const char*>(p) : "",
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace envprobe::history_sql
