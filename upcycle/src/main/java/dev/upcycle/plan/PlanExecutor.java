package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.CheckpointWriter;
import dev.upcycle.ckpt.RawTensor;
import java.io.IOException;
import java.util.List;

/**
 * Runs a checked {@link UpcyclePlan}: reads each rule's source tensor (one ahead, {@link ReadAhead}),
 * checks that it reads as the plan listed it, makes the target (COPY renames, TILE / TILE_SLOT are
 * E back-to-back copies, GRANULAR and altered tiles go through {@link ExpertTensors#expand},
 * FRESH_ROUTER / FRESH_SLOT through {@link ExpertTensors#fresh}) and hands it to the writer, in rule
 * order. DROP rules read nothing. The one implementation behind {@code convert} (a reader over a
 * checkpoint on disk) and the in-memory upcycle of a model held in a session.
 *
 * <p>The caller owns the writer: it opens it before and commits (or abandons) it after.
 */
public final class PlanExecutor {

  /**
   * What a run did.
   *
   * @param tensorsWritten target tensors written
   * @param bytesWritten tensor bytes written (file overhead aside)
   * @param bytesRead tensor bytes read from the source
   */
  public record Result(int tensorsWritten, long bytesWritten, long bytesRead) {}

  private PlanExecutor() {}

  /**
   * Writes every target of {@code plan} (built from {@code reader}'s listing and checked) to
   * {@code writer}, with the plan's options (experts, noise, drop, granularity, router init, seed).
   *
   * @throws IOException when reading or writing fails, or a source reads with another dtype or
   *     shape than the plan lists
   */
  public static Result run(UpcyclePlan plan, CheckpointReader reader, CheckpointWriter writer,
      ProgressListener progress) throws IOException {
    checkNotNull(plan, "plan");
    checkNotNull(reader, "reader");
    checkNotNull(writer, "writer");
    checkNotNull(progress, "progress");
    UpcycleOptions options = plan.options();
    List<Rule> active = plan.rules().stream().filter(r -> r.kind() != Rule.Kind.DROP).toList();
    int total = plan.targets().size();
    int written = 0;
    long bytesWritten = 0;
    long bytesRead = 0;
    try (ReadAhead sources = new ReadAhead(reader,
        active.stream().map(r -> r.source() == null ? null : r.source().name()).toList())) {
      for (Rule rule : active) {
        RawTensor source = sources.next();
        if (source != null) {
          bytesRead += source.info().byteSize();
          if (!source.info().equals(rule.source())) {
            throw new IOException(reader.source() + ": tensor '" + rule.source().name() + "' reads as "
                + source.info() + " but was listed as " + rule.source());
          }
        }
        boolean plainTile = rule.kind() == Rule.Kind.TILE_SLOT
            || rule.kind() == Rule.Kind.TILE && !options.altersExperts();
        if (plainTile) {
          // E exact copies: streamed, so memory stays one dense tensor whatever E is
          writer.writeRepeated(rule.target(), source, options.numExperts());
        } else {
          RawTensor result = switch (rule.kind()) {
            case COPY -> source.withName(rule.target().name());
            case TILE, GRANULAR, TILE_SLOT -> ExpertTensors.expand(rule, source, options);
            case FRESH_ROUTER, FRESH_SLOT -> ExpertTensors.fresh(rule, options);
            case DROP -> throw new AssertionError("DROP rules were filtered out");
          };
          writer.write(result);
        }
        written++;
        bytesWritten += rule.target().byteSize();
        progress.tensorWritten(written, total, rule.target().name(), rule.target().byteSize());
      }
    }
    return new Result(written, bytesWritten, bytesRead);
  }
}
