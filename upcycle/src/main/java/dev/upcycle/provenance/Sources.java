package dev.upcycle.provenance;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.Digests;
import dev.upcycle.ckpt.RenamingReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** The {@link Provenance.Source} of a checkpoint: its path, format and the digest of its index (or msgpack) file. */
public final class Sources {

  private Sources() {}

  /** The source record of a checkpoint {@link CheckpointFormats#open} opened. */
  public static Provenance.Source of(CheckpointFormats.Detected d) throws IOException {
    checkNotNull(d, "detected");
    return new Provenance.Source(d.source().toAbsolutePath().normalize().toString(), d.format(),
        d.indexFile().getFileName().toString(), Digests.sha256(d.indexFile()));
  }

  /** Opens {@code checkpoint} (index only, no tensor data) for its source record. */
  public static Provenance.Source checkpoint(Path checkpoint) throws IOException {
    try (RenamingReader reader = CheckpointFormats.open(checkpoint, Optional.empty())) {
      return of(CheckpointFormats.detected(reader));
    }
  }
}
