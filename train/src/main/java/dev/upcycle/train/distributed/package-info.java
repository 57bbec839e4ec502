/**
 * Distributed training on TensorFlow's own gRPC runtime: the cluster as TensorFlow describes it
 * ({@link dev.upcycle.train.distributed.ClusterSpec}, from {@code TF_CONFIG}), one TF server per task
 * ({@link dev.upcycle.train.distributed.ClusterServer}), sessions whose target is a task
 * ({@link dev.upcycle.train.distributed.TargetSessions}), and in-graph data-parallel replicas
 * ({@link dev.upcycle.train.distributed.ReplicatedModel}) placed on local devices or cluster tasks
 * ({@link dev.upcycle.train.distributed.Placement}). See docs/distributed.md.
 */
package dev.upcycle.train.distributed;
