/**
 * The model's configuration in JSON form: {@link dev.upcycle.model.config.ModelSection} (the
 * architecture), {@link dev.upcycle.model.config.MoeSection} and
 * {@link dev.upcycle.model.config.RouterSection}, and {@link dev.upcycle.model.config.SpecConfig},
 * the whole {@link dev.upcycle.model.ModelSpec} that train configs and provenance records hold.
 */
package dev.upcycle.model.config;
