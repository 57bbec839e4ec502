package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.names.T5xNames;
import dev.upcycle.ckpt.t5x.T5xCheckpointWriter;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.names.CanonicalNames;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

/**
 * {@code convert --format t5x --optimizer-state copy} writes Adafactor state in the layout T5X's
 * Adafactor restores (all four slots per parameter, the unused ones float32 [1]); reading it back
 * gives the canonical slots of the TF-bundle output; a dense source in T5X's layout converts too.
 */
class T5xAdafactorLayoutTest {

  private static final T5Config TINY = new T5Config(8, 16, 2, 4, 2, 2, 32, 8, 16, 0.0);
  private static final long STEP = 77;

  @TempDir Path tmp;

  /** Dense canonical tensors: params, factored Adafactor slots (v for 1-D), m for every param when asked. */
  private static List<RawTensor> dense(boolean momentum) {
    List<TensorInfo> params = SyntheticCheckpoint.t5Params(TINY, DType.FLOAT32);
    List<TensorInfo> all = new ArrayList<>(params);
    all.addAll(SyntheticCheckpoint.slots(params, SyntheticCheckpoint.Slots.ADAFACTOR));
    if (momentum) {
      params.forEach(p -> all.add(new TensorInfo(CanonicalNames.slot(p.name(), CanonicalNames.M), DType.FLOAT32, p.shape())));
    }
    SplittableRandom rnd = new SplittableRandom(3);
    List<RawTensor> out = new ArrayList<>();
    all.forEach(t -> out.add(SyntheticCheckpoint.random(t, rnd)));
    out.add(new RawTensor(new TensorInfo(CanonicalNames.STEP, DType.INT64, new long[0]),
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, STEP)));
    return out;
  }

  private static Path writeTf(Path folder, List<RawTensor> tensors) throws Exception {
    try (TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(folder).resolve("model.ckpt-" + STEP))) {
      for (RawTensor t : tensors) {
        w.write(t);
      }
      w.commit();
    }
    return folder;
  }

  private Path convert(Path from, String name, UpcycleOptions.OutputFormat format) throws Exception {
    Path to = tmp.resolve(name);
    ConvertJob.run(from, to, UpcycleOptions.defaults(3).withSeed(5).withOptimizerState(UpcycleOptions.OptimizerState.COPY)
        .withOutputFormat(format), Optional.empty(), false, false, ProgressListener.NONE);
    return format == UpcycleOptions.OutputFormat.T5X ? T5xCheckpointWriter.checkpointDir(to, STEP) : to;
  }

  /** Flattens a msgpack map to {@code a/b/c} → leaf (a tensorstore spec map counts as a leaf). */
  private static void flatten(String prefix, Value v, Map<String, Value> out) {
    if (v.isMapValue() && !v.asMapValue().map().containsKey(org.msgpack.value.ValueFactory.newString("driver"))) {
      for (Map.Entry<Value, Value> e : v.asMapValue().map().entrySet()) {
        flatten(prefix.isEmpty() ? e.getKey().asStringValue().asString() : prefix + "/" + e.getKey().asStringValue()
            .asString(), e.getValue(), out);
      }
    } else {
      out.put(prefix, v);
    }
  }

  private static Value get(Value map, String key) {
    return map.asMapValue().map().get(org.msgpack.value.ValueFactory.newString(key));
  }

  /** Canonical {@code state/param_states/...} tensors by name. */
  private static Map<String, RawTensor> state(Path checkpoint) throws Exception {
    Map<String, RawTensor> out = new TreeMap<>();
    try (RenamingReader r = CheckpointFormats.open(checkpoint, Optional.empty())) {
      for (TensorInfo t : r.tensors()) {
        if (t.name().startsWith((CanonicalNames.PARAM_STATES + "/"))) {
          out.put(t.name(), r.read(t.name()));
        }
      }
    }
    return out;
  }

  private static void assertSameState(Map<String, RawTensor> want, Map<String, RawTensor> got) {
    assertEquals(want.keySet(), got.keySet());
    for (String name : want.keySet()) {
      assertEquals(want.get(name).info(), got.get(name).info(), name);
      assertArrayEquals(want.get(name).bytes(), got.get(name).bytes(), name);
    }
  }

  @ParameterizedTest(name = "momentum {0}")
  @ValueSource(booleans = {false, true})
  void t5xOutputHoldsAllFourSlotsAndReadsBackAsTheTfOutput(boolean momentum) throws Exception {
    Path from = writeTf(tmp.resolve("dense"), dense(momentum));
    Path tf = convert(from, "moe-tf", UpcycleOptions.OutputFormat.TF);
    Path t5x = convert(from, "moe-t5x", UpcycleOptions.OutputFormat.T5X);

    Map<String, Value> target = new TreeMap<>();
    Map<String, Value> slots = new TreeMap<>();
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(Files.readAllBytes(t5x.resolve("checkpoint")))) {
      Value optimizer = get(u.unpackValue(), "optimizer");
      flatten("", get(optimizer, "target"), target);
      flatten("", get(get(optimizer, "state"), "param_states"), slots);
    }
    Map<String, RawTensor> canonical = state(tf);
    assertTrue(target.containsKey("encoder/layers_1/mlp/expert/wi_0/kernel"), target.keySet().toString());
    assertTrue(target.containsKey("encoder/layers_1/mlp/router/router_weights/w/kernel"), target.keySet().toString());
    for (String param : target.keySet()) {
      for (String slot : new String[] {"v_row", "v_col", "v", "m"}) {
        String name = param + "/" + slot;
        Value spec = slots.get(name);
        assertTrue(spec != null, "param_states/" + name + " is in the msgpack tree");
        RawTensor real = canonical.get((CanonicalNames.PARAM_STATES + "/") + name);
        String shape = get(get(spec, "metadata"), "shape").toJson();
        if (real != null) {
          assertEquals(java.util.Arrays.toString(real.info().shape()).replace(" ", ""), shape, name);
        } else {
          assertEquals("[1]", shape, name + " is an unused slot");
          assertEquals("float32", get(spec, "dtype").asStringValue().asString(), name);
        }
      }
    }
    assertEquals(4 * target.size(), slots.size(), "four slots per parameter, nothing else: " + slots.keySet());
    if (!momentum) {
      assertFalse(canonical.keySet().stream().anyMatch(n -> n.endsWith("/m")), "no momentum in the TF output");
    }

    assertSameState(canonical, state(t5x));
    try (RenamingReader r = CheckpointFormats.open(t5x, Optional.empty())) {
      CheckpointFormats.Detected d = CheckpointFormats.detected(r);
      assertEquals(4 * target.size() - canonical.size(), d.unusedSlots().size());
      assertTrue(d.describe().contains("unused Adafactor slots"), d.describe());
    }
  }

  @ParameterizedTest(name = "momentum {0}")
  @ValueSource(booleans = {false, true})
  void aDenseSourceInT5xLayoutConvertsLikeItsTfTwin(boolean momentum) throws Exception {
    List<RawTensor> tensors = dense(momentum);
    Path fromTf = writeTf(tmp.resolve("dense-tf"), tensors);
    Path fromT5x = T5xCheckpointWriter.checkpointDir(tmp.resolve("dense-t5x"), STEP);
    try (T5xCheckpointWriter w = T5xCheckpointWriter.create(Files.createDirectories(fromT5x))) {
      for (RawTensor t : tensors) {
        w.write(t.withName(T5xNames.toT5x().apply(t.name()).orElseThrow()));
      }
      w.commit();
    }
    try (RenamingReader r = CheckpointFormats.open(fromT5x, Optional.empty())) {
      assertTrue(!CheckpointFormats.detected(r).unusedSlots().isEmpty(), "the source has T5X's placeholders");
      assertEquals(new TreeSet<>(tensors.stream().map(RawTensor::name).toList()),
          new TreeSet<>(r.tensors().stream().map(TensorInfo::name).toList()), "and lists the canonical tensors");
    }
    assertSameState(state(convert(fromTf, "moe-from-tf", UpcycleOptions.OutputFormat.TF)),
        state(convert(fromT5x, "moe-from-t5x", UpcycleOptions.OutputFormat.TF)));
  }
}
