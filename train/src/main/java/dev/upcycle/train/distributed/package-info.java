/**
 * Distributed training on TensorFlow's own gRPC runtime: the cluster as TensorFlow describes it
 * ({@link dev.upcycle.train.distributed.ClusterSpec}, from {@code TF_CONFIG}), one TF server per task
 * ({@link dev.upcycle.train.distributed.ClusterServer}), each task's state
 * ({@link dev.upcycle.train.distributed.ClusterCheck}), sessions whose target is a task
 * ({@link dev.upcycle.train.distributed.TargetSessions}), in-graph data-parallel replicas
 * ({@link dev.upcycle.train.distributed.ReplicatedModel}, spliced per device by
 * {@link dev.upcycle.train.distributed.GraphSplice}) or expert shards ({@code moe.expert_shards}:
 * one data replica, expert e on device e mod N) placed on local devices or cluster tasks
 * ({@link dev.upcycle.train.distributed.Placement}), the chief's job
 * ({@link dev.upcycle.train.distributed.DistributedTraining}) and a loopback cluster of child
 * processes for tests and benchmarks ({@link dev.upcycle.train.distributed.LoopbackCluster}).
 * See docs/distributed.md.
 */
package dev.upcycle.train.distributed;
