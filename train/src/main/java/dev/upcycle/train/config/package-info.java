/**
 * The training job's configuration: {@link dev.upcycle.train.config.TrainConfig}, loaded from JSON
 * over documented defaults ({@code docs/train-config.md}), overridable by dotted keys, validated,
 * and saved resolved next to every checkpoint.
 */
package dev.upcycle.train.config;
