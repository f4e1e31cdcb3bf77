// Compiled with the pure libraries' flags by the architecture test, which expects this to FAIL:
// it proves the guard stops a pure file from including an adapter header.
#include <curl/curl.h>

int envprobeArchitectureProbe() { return static_cast<int>(sizeof(CURL*)); }
