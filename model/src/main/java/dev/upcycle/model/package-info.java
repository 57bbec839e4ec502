/** Model configurations, canonical variable names and the TensorFlow graph builders. */
package dev.upcycle.model;
