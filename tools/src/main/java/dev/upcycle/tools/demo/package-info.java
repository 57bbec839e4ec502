/** The built-in end-to-end demonstration behind {@code upcycle demo}. */
package dev.upcycle.tools.demo;
