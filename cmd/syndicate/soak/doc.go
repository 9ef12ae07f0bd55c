// Package soak holds only the soak test, which runs the worker as a
// production build for a quarter of an hour against a thousand loopback
// feeds with churn, faulty platforms and a Redis restart, and checks from
// outside that its memory, goroutines and open files stay flat and that
// every new article reaches each of its destinations once. It is a package
// of its own so that its quarter of an hour runs beside the other
// packages' tests rather than after them.
package soak
