package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.names.NameMap;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plans that must be refused before anything is written, and the dry-run report. */
class PlanCheckTest {

  private static final T5Config TINY = new T5Config(8, 16, 2, 4, 4, 4, 32, 8, 16, 0.0);

  @TempDir Path tmp;

  private Path dense() throws Exception {
    Path dir = tmp.resolve("dense");
    SyntheticCheckpoint.writeT5(dir.resolve("model.ckpt-5"), TINY, DType.FLOAT32, SyntheticCheckpoint.Slots.NONE, 5, 1);
    return dir;
  }

  private static List<String> siblings(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void unmappedSourceIsRefusedBeforeWriting() throws Exception {
    Path from = dense();
    // A user map that forgets the decoder's logits.
    NameMap map = NameMap.of(NameMap.Rule.drop("decoder/logits_dense/kernel_never"),
        NameMap.Rule.map("(token_embedder|encoder|state)/(.*)", "$1/$2"),
        NameMap.Rule.map("decoder/(layers_.*|relpos.*|decoder_norm.*)", "decoder/$1"));
    Path to = tmp.resolve("out");
    PlanCheckException e = assertThrows(PlanCheckException.class, () ->
        ConvertJob.run(from, to, UpcycleOptions.defaults(4), Optional.of(map), false, false, ProgressListener.NONE));
    assertTrue(e.getMessage().contains("decoder/logits_dense/kernel"), e.getMessage());
    assertTrue(e.getMessage().contains("not matched by any rule"), e.getMessage());
    assertFalse(Files.exists(to));
    assertEquals(List.of("dense"), siblings(tmp));
  }

  @Test
  void duplicateTargetIsRefused() throws Exception {
    Path from = dense();
    // Both final norms land on one name.
    NameMap map = NameMap.of(NameMap.Rule.map("(encoder|decoder)/(encoder|decoder)_norm/scale", "final_norm/scale"),
        NameMap.Rule.map("(.*)", "$1"));
    PlanCheckException e = assertThrows(PlanCheckException.class, () -> ConvertJob.run(from, tmp.resolve("out"),
        UpcycleOptions.defaults(4), Optional.of(map), false, false, ProgressListener.NONE));
    assertTrue(e.getMessage().contains("target tensor final_norm/scale is produced 2 times"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("out")));
  }

  @Test
  void shapeMismatchWithTheModelConfigIsReported() {
    List<TensorInfo> source = SyntheticCheckpoint.t5Params(TINY, DType.FLOAT32);
    UpcyclePlan plan = PlanBuilder.build(source, UpcycleOptions.defaults(4));
    assertTrue(PlanCheck.check(plan).ok(), PlanCheck.check(plan).format());
    // The config the output is for has 8 experts, and layer 3 of the encoder has a wider MLP.
    List<TensorInfo> expected = new ArrayList<>();
    for (TensorInfo t : plan.targets()) {
      long[] s = t.shape();
      if (t.name().contains("/expert/")) {
        s[0] = 8;
      }
      if (t.name().equals("encoder/layers_3/mlp/expert/wo/kernel")) {
        s[1] = 32;
      }
      expected.add(new TensorInfo(t.name(), t.dtype(), s));
    }
    expected.add(new TensorInfo("encoder/extra/kernel", DType.FLOAT32, new long[] {2, 2}));
    PlanReport r = PlanCheck.check(plan, expected);
    assertFalse(r.ok());
    assertTrue(r.problems().stream().anyMatch(p -> p.contains("encoder/layers_3/mlp/expert/wo/kernel is [8, 32, 8]"
        + " in the config but [4, 16, 8] in the plan")), r.format());
    assertTrue(r.problems().stream().anyMatch(p -> p.contains("needs encoder/extra/kernel")), r.format());
    assertThrows(PlanCheckException.class, r::orThrow);
  }

  @Test
  void layoutBeyondTheStackOrAlreadyMoeLayerIsRefused() {
    List<TensorInfo> source = new ArrayList<>(SyntheticCheckpoint.t5Params(TINY, DType.FLOAT32));
    PlanReport r = PlanCheck.check(PlanBuilder.build(source,
        UpcycleOptions.defaults(4).withLayouts(SparseLayout.layers(1, 9), SparseLayout.DENSE)));
    assertTrue(r.problems().stream().anyMatch(p -> p.contains("stack 'encoder' of 4 layers")), r.format());
    source.removeIf(t -> t.name().startsWith("decoder/layers_1/mlp/"));
    source.add(new TensorInfo("decoder/layers_1/mlp/expert/wo/kernel", DType.FLOAT32, new long[] {4, 16, 8}));
    r = PlanCheck.check(PlanBuilder.build(source, UpcycleOptions.defaults(4)));
    assertTrue(r.problems().stream().anyMatch(p -> p.contains("MoE layer decoder/layers_1/mlp needs a dense MLP")
        && p.contains("already an MoE layer")), r.format());
  }

  @Test
  void dryRunWritesNothingAndReportsCountsAndBytesPerRule() throws Exception {
    Path from = dense();
    Path to = tmp.resolve("out");
    PlanReport[] seen = new PlanReport[1];
    ConvertResult result = ConvertJob.run(from, to, UpcycleOptions.defaults(4), Optional.empty(), true, false,
        new ProgressListener() {
          @Override
          public void planned(UpcyclePlan plan, PlanReport report) {
            seen[0] = report;
          }
        });
    assertFalse(result.written());
    assertFalse(Files.exists(to));
    assertEquals(List.of("dense"), siblings(tmp));
    PlanReport r = result.report();
    assertTrue(r.ok());
    assertEquals(r, seen[0]);
    // 4+4 layers, every other: 2+2 MoE layers with 3 MLP kernels each, one router each.
    long mlpBytes = 16 * 8 * 4;
    PlanReport.KindTotal tile = r.kinds().stream().filter(k -> k.kind() == Rule.Kind.TILE).findFirst().orElseThrow();
    assertEquals(12, tile.count());
    assertEquals(12 * mlpBytes, tile.bytesRead());
    assertEquals(12 * mlpBytes * 4, tile.bytesWritten());
    PlanReport.KindTotal router = r.kinds().stream().filter(k -> k.kind() == Rule.Kind.FRESH_ROUTER).findFirst()
        .orElseThrow();
    assertEquals(4, router.count());
    assertEquals(4 * 8 * 4 * 4, router.bytesWritten());
    String text = r.format();
    assertTrue(text.contains("TILE") && text.contains("FRESH_ROUTER") && text.contains("plan check: OK"), text);
    assertTrue(text.contains(String.valueOf(12 * mlpBytes * 4)), text);
  }

  @Test
  void existingOutputWithoutOverwriteFailsBeforeAnyWork() throws Exception {
    Path from = dense();
    Path to = Files.createDirectory(tmp.resolve("out"));
    Files.writeString(to.resolve("keep.txt"), "mine");
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, () ->
        ConvertJob.run(from, to, UpcycleOptions.defaults(4), Optional.empty(), false, false, ProgressListener.NONE));
    assertTrue(e.getMessage().contains(to.toString()) && e.getMessage().contains("overwrite"), e.getMessage());
    assertEquals("mine", Files.readString(to.resolve("keep.txt")));
    assertEquals(List.of("dense", "out"), siblings(tmp));
    // With overwrite the folder is replaced as a whole.
    ConvertJob.run(from, to, UpcycleOptions.defaults(4), Optional.empty(), false, true, ProgressListener.NONE);
    assertFalse(Files.exists(to.resolve("keep.txt")));
    assertTrue(Files.isRegularFile(to.resolve("model.ckpt-5.index")));
    assertEquals(List.of("dense", "out"), siblings(tmp));
  }
}
