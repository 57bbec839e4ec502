package dev.upcycle.ckpt.tf;

import java.nio.file.Path;

/** File names of a tensor bundle with prefix {@code p}: {@code p.index}, {@code p.data-00000-of-00002}, ... */
public final class BundleFiles {

  private BundleFiles() {}

  public static Path index(Path prefix) {
    return prefix.resolveSibling(prefix.getFileName() + ".index");
  }

  public static Path data(Path prefix, int shard, int numShards) {
    return prefix.resolveSibling(String.format("%s.data-%05d-of-%05d", prefix.getFileName(), shard, numShards));
  }
}
