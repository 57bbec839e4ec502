/**
 * Graph plumbing shared by every builder: the {@link dev.upcycle.model.graph.VariableStore} that
 * maps canonical names to resource variables, initializers, the build context and session configs.
 */
package dev.upcycle.model.graph;
