package dev.upcycle.train.ckpt;

import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.util.List;

/**
 * What a restore did.
 *
 * @param source the file that identifies the checkpoint read (bundle {@code .index}, T5X msgpack)
 * @param restored names assigned from the checkpoint
 * @param fresh optional names the checkpoint lacked (optimizer slots, step): they keep their fresh
 *     (zero) values
 * @param ignored optimizer-state tensors in the checkpoint that this run has no variable for
 */
public record RestoreReport(Path source, List<String> restored, List<String> fresh, List<String> ignored) {

  public RestoreReport {
    restored = ImmutableList.copyOf(restored);
    fresh = ImmutableList.copyOf(fresh);
    ignored = ImmutableList.copyOf(ignored);
  }
}
