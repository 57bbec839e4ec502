/** End-to-end tests through the {@code upcycle} command line, on real fixtures. */
package dev.upcycle.e2e;
