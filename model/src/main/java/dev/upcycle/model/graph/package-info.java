/**
 * Graph plumbing shared by every builder: the {@link dev.upcycle.model.graph.VariableStore} that
 * maps canonical names to resource variables, initializers, the build context, session configs,
 * and the execution policies of a step: {@link dev.upcycle.model.graph.XlaMode} /
 * {@link dev.upcycle.model.graph.XlaModule} (the step as one XLA module),
 * {@link dev.upcycle.model.graph.ComputeDevice} / {@link dev.upcycle.model.graph.SessionDevices}
 * (placement, what TF sees) and {@link dev.upcycle.model.graph.Precision} (bfloat16 matmuls), and
 * expert parallelism: {@link dev.upcycle.model.graph.ExpertShards} (expert e on shard e mod N) and
 * {@link dev.upcycle.model.graph.PartedVariable} (an expert variable stored in per-shard parts).
 */
package dev.upcycle.model.graph;
