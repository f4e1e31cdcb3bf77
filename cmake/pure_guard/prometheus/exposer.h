// Placed first on the include path of the pure libraries (base, alerting, config, catalog,
// checks, schedule): the pure core must not depend on an adapter library.
#error "a pure envprobe library must not include <prometheus/exposer.h>; put this code in an adapter library"
