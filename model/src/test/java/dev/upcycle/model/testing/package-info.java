/** Reusable test helpers shared by every module's tests (published as the model test-jar). */
package dev.upcycle.model.testing;
