package dev.upcycle.ckpt.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Real bundles written by TF (t2t, TF Serving and TF Java test data) against their listings. */
class TfBundleFixturesTest {

  /** One line of a fixture listing produced with TF's own C checkpoint reader. */
  private record Listed(String name, String dtype, long[] shape, long bytes, String first, Double meanAbs) {}

  private static final Pattern LINE = Pattern.compile(
      "^\\s+(\\S+)\\s+(DT_\\w+)\\s+\\[([^\\]]*)\\]\\s+bytes=(\\d+)(?:\\s+first=\\[([^\\]]*)\\])?(?:\\s+mean\\|x\\|=([\\d.]+))?.*$");

  private static Map<String, Listed> listing(String file, String header) throws Exception {
    List<String> lines = Files.readAllLines(Fixtures.fixture("_listings/" + file));
    Map<String, Listed> out = new LinkedHashMap<>();
    boolean in = false;
    for (String line : lines) {
      if (line.startsWith("checkpoint ")) {
        in = line.startsWith("checkpoint " + header + " ");
        continue;
      }
      Matcher m = LINE.matcher(line);
      if (in && m.matches()) {
        long[] shape = m.group(3).isBlank() ? new long[0]
            : Arrays.stream(m.group(3).split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
        out.put(m.group(1), new Listed(m.group(1), m.group(2), shape, Long.parseLong(m.group(4)), m.group(5),
            m.group(6) == null ? null : Double.valueOf(m.group(6))));
      }
    }
    return out;
  }

  @Test
  void t2tTransformerMatchesItsListingTensorByTensor() throws Exception {
    Map<String, Listed> listed = listing("t2t_transformer_test_ckpt.txt", "t2t_transformer_test_ckpt/model.ckpt-1");
    assertEquals(250, listed.size(), "listing parse");
    // The folder holds a 'checkpoint' state file naming model.ckpt-1.
    try (TfBundleReader r = TfBundleReader.open(Fixtures.fixture("t2t_transformer_test_ckpt"))) {
      assertEquals(2, r.numShards());
      assertEquals(250, r.tensors().size());
      assertEquals(listed.keySet().stream().sorted().toList(), r.tensors().stream().map(TensorInfo::name).toList());
      long elements = 0;
      for (TensorInfo info : r.tensors()) {
        Listed l = listed.get(info.name());
        assertEquals(l.dtype(), "DT_" + tfName(info.dtype()), info.name());
        assertArrayEquals(l.shape(), info.shape(), info.name());
        assertEquals(l.bytes(), info.byteSize(), info.name());
        RawTensor t = r.read(info.name()); // checks size and CRC32C
        elements += info.numElements();
        checkValues(l, t);
      }
      assertEquals(417_607, elements);
      RawTensor step = r.read("global_step");
      assertEquals(DType.INT64, step.info().dtype());
      assertEquals(1L, step.data().getLong(0));
    }
  }

  /** First values must match exactly (the listing printed Java's shortest float), mean |x| to its 5 decimals. */
  private static void checkValues(Listed l, RawTensor t) {
    if (l.first() == null) {
      return;
    }
    String[] first = l.first().split(",");
    ByteBuffer b = t.data();
    for (int i = 0; i < first.length; i++) {
      switch (t.info().dtype()) {
        case FLOAT32 -> assertEquals(Float.parseFloat(first[i]), b.getFloat(4 * i), t.name());
        case INT32 -> assertEquals(Integer.parseInt(first[i]), b.getInt(4 * i), t.name());
        case INT64 -> assertEquals(Long.parseLong(first[i]), b.getLong(8 * i), t.name());
        default -> throw new AssertionError("unexpected dtype in t2t fixture: " + t.info());
      }
    }
    if (l.meanAbs() != null && t.info().dtype() == DType.FLOAT32) {
      double sum = 0;
      long n = t.info().numElements();
      for (int i = 0; i < n; i++) {
        sum += Math.abs(b.getFloat(4 * i));
      }
      assertEquals(l.meanAbs(), sum / n, 0.5e-5 + 1e-6, t.name() + " mean |x|");
    }
  }

  private static String tfName(DType d) {
    return switch (d) {
      case FLOAT32 -> "FLOAT";
      case FLOAT64 -> "DOUBLE";
      case STRING -> "STRING";
      default -> d.name();
    };
  }

  @Test
  void halfPlusTwoTf1SavedModelVariables() throws Exception {
    Path dir = Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu/00000123");
    assertTrue(TfBundleReader.looksLike(dir));
    try (TfBundleReader r = TfBundleReader.open(dir)) {
      assertTrue(r.prefix().endsWith(Path.of("variables/variables")), r.prefix().toString());
      assertEquals(List.of("a", "a2", "b", "c", "c2"), r.tensors().stream().map(TensorInfo::name).toList());
      Map<String, Float> expected = Map.of("a", 0.5f, "a2", 0.5f, "b", 2.0f, "c", 3.0f, "c2", 3.0f);
      for (TensorInfo info : r.tensors()) {
        assertEquals(DType.FLOAT32, info.dtype());
        assertEquals(0, info.rank());
        assertEquals(expected.get(info.name()), r.read(info.name()).data().getFloat(0), info.name());
      }
    }
  }

  @Test
  void halfPlusTwoTf2SavedModelKeepsObjectGraphNames() throws Exception {
    try (TfBundleReader r = TfBundleReader.open(Fixtures.fixture("tfserving_saved_model_half_plus_two_tf2_cpu/00000123"))) {
      assertEquals(List.of("_CHECKPOINTABLE_OBJECT_GRAPH", "a/.ATTRIBUTES/VARIABLE_VALUE",
          "b/.ATTRIBUTES/VARIABLE_VALUE", "c/.ATTRIBUTES/VARIABLE_VALUE"),
          r.tensors().stream().map(TensorInfo::name).toList());
      assertEquals(DType.STRING, r.tensors().get(0).dtype());
      assertEquals(0.5f, r.read("a/.ATTRIBUTES/VARIABLE_VALUE").data().getFloat(0));
      assertEquals(2.0f, r.read("b/.ATTRIBUTES/VARIABLE_VALUE").data().getFloat(0));
      assertEquals(3.0f, r.read("c/.ATTRIBUTES/VARIABLE_VALUE").data().getFloat(0));
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
          () -> r.read("_CHECKPOINTABLE_OBJECT_GRAPH"));
      assertTrue(e.getMessage().contains("'_CHECKPOINTABLE_OBJECT_GRAPH'") && e.getMessage().contains("DT_STRING"),
          e.getMessage());
    }
  }

  @Test
  void tfJavaSavedModelVariableIsTwo() throws Exception {
    try (TfBundleReader r = TfBundleReader.open(Fixtures.fixture("tfjava_saved_model_using_python/model"))) {
      assertEquals(2, r.tensors().size());
      RawTensor v = r.read("variable/.ATTRIBUTES/VARIABLE_VALUE");
      assertEquals(new TensorInfo("variable/.ATTRIBUTES/VARIABLE_VALUE", DType.FLOAT32, new long[0]), v.info());
      assertEquals(2.0f, v.data().getFloat(0));
    }
  }

  @Test
  void otherFormatsAreNotMistakenForBundles() throws Exception {
    // A T5X folder also holds a file named 'checkpoint' (msgpack, not a state file).
    Path t5x = Fixtures.fixture("t5x_tiny_t5/checkpoint_1");
    assertTrue(!TfBundleReader.looksLike(t5x));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TfBundleReader.open(t5x));
    assertTrue(e.getMessage().contains(t5x.resolve("checkpoint").toString()), e.getMessage());
    Path noVariables = Fixtures.fixture("tfserving_matrix_half_plus_two/1");
    assertTrue(!TfBundleReader.looksLike(noVariables));
    e = assertThrows(CheckpointFormatException.class, () -> TfBundleReader.open(noVariables));
    assertTrue(e.getMessage().contains(noVariables.toString()) && e.getMessage().contains("not a TF tensor bundle"),
        e.getMessage());
  }
}
