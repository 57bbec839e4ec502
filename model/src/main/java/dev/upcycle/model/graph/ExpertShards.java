package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import java.util.List;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TType;

/**
 * Expert parallelism: the experts of every MoE layer split over N devices, expert {@code e} on
 * shard {@code e mod N}. The one home of the "rows of shard s" rule: shard {@code s} holds the
 * rows {@code s, s+N, s+2N, …} of every canonical {@code [E, ...]} expert tensor (weights and the
 * optimizer slots that keep the expert axis), in that order.
 *
 * @param devices the device of each shard, shard 0 first
 */
public record ExpertShards(ImmutableList<DeviceSpec> devices) {

  public ExpertShards {
    checkArgument(devices != null && !devices.isEmpty(), "expert shards need at least one device");
  }

  public static ExpertShards of(List<DeviceSpec> devices) {
    return new ExpertShards(ImmutableList.copyOf(checkNotNull(devices, "devices")));
  }

  /** N. */
  public int count() {
    return devices.size();
  }

  /** The shard of expert {@code e}: {@code e mod N}. */
  public int shardOf(int expert) {
    checkArgument(expert >= 0, "expert index %s", expert);
    return expert % count();
  }

  public DeviceSpec device(int shard) {
    return devices.get(shard);
  }

  /** The device expert {@code e} computes on. */
  public DeviceSpec deviceOfExpert(int expert) {
    return devices.get(shardOf(expert));
  }

  /** The canonical rows (experts) of shard {@code s} for {@code numExperts} experts: {@code s, s+N, …}. */
  public int[] experts(int shard, long numExperts) {
    checkDivides(numExperts);
    checkArgument(shard >= 0 && shard < count(), "shard %s of %s", shard, count());
    int per = Math.toIntExact(numExperts / count());
    int[] rows = new int[per];
    for (int i = 0; i < per; i++) {
      rows[i] = shard + i * count();
    }
    return rows;
  }

  /** Shard {@code s}'s part of a canonical tensor {@code whole} [E, ...]: [E/N, ...], its rows in order. */
  public <T extends TType> Operand<T> rows(Ops tf, Operand<T> whole, int shard, long numExperts) {
    return tf.gather(whole, tf.constant(experts(shard, numExperts)), tf.constant(0));
  }

  /** The canonical tensor [E, ...] from the parts (N × [E/N, ...], shard order): the inverse of {@link #rows}. */
  public <T extends TType> Operand<T> assemble(Ops tf, List<Operand<T>> parts, long numExperts) {
    checkArgument(parts.size() == count(), "%s parts for %s shards", parts.size(), count());
    checkDivides(numExperts);
    int per = Math.toIntExact(numExperts / count());
    // concatenated parts are shard-major: expert e sits at row (e mod N)·E/N + e div N
    int[] order = new int[Math.toIntExact(numExperts)];
    for (int e = 0; e < order.length; e++) {
      order[e] = shardOf(e) * per + e / count();
    }
    Operand<T> stacked = parts.size() == 1 ? parts.get(0) : tf.concat(parts, tf.constant(0));
    return tf.gather(stacked, tf.constant(order), tf.constant(0));
  }

  /** Checks that N divides {@code numExperts}, naming {@code moe.expert_shards}. */
  public void checkDivides(long numExperts) {
    checkArgument(numExperts >= 1 && numExperts % count() == 0,
        "moe.expert_shards %s must divide the expert count %s (expert e lives on shard e mod %s)", count(), numExperts,
        count());
  }
}
